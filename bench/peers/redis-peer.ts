// Redis as a KV peer: SET and GET on one redis-server with `appendfsync
// always` (Redis writes and fsyncs the AOF before it sends the replies of an
// event-loop turn, so a SET is on disk when acknowledged). One client
// connection; the callers' commands share it, as with any Redis client.
import { Redis } from 'ioredis'
import { runClosedLoop } from './closed-loop.js'
import { runAll } from './preload.js'
import { startRedis } from './redis-server.js'
import { KV_KEYS, kvKey, type PeerMeasurement, type RunContext } from './workload.js'

const PEER = 'Redis'
const SUMMARY = '1 server, fsync'

export async function runRedis(context: RunContext): Promise<PeerMeasurement[]> {
  const redis = await startRedis(context, 'always', 'redis-always')
  const client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 })
  const conditions = `${redis.version}, 1 server, AOF appendfsync always (fsync before reply), no replica`
  try {
    await client.connect()
    const value = Buffer.alloc(context.sizeBytes, 'v')
    context.log('redis: SET')
    const put = await runClosedLoop(context, async (_client, sequence) => {
      await client.set(kvKey(sequence), value)
      return 1
    })
    await runAll(KV_KEYS, context.clients, async (i) => {
      await client.set(kvKey(i), value)
    })
    context.log('redis: GET')
    const get = await runClosedLoop(context, async (_client, sequence) => {
      const answer = await client.getBuffer(kvKey(sequence))
      if (answer === null) throw new Error(`GET ${kvKey(sequence)}: missing`)
      return 1
    })
    return [
      { workload: 'kv-put', peer: PEER, summary: SUMMARY, conditions, result: put },
      { workload: 'kv-get', peer: PEER, summary: SUMMARY, conditions: `${conditions}; GET from memory`, result: get },
    ]
  } finally {
    client.disconnect()
    await redis.process.stop()
  }
}
