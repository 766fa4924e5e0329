// Embedding a Troupe node: durable queues and KV in your own process.
// Run it with `node examples/node-hello.mjs`; data goes to ./troupe-example-data.
import { startNode } from 'troupe'

const node = await startNode({ dataDir: './troupe-example-data', shards: 4 })

await node.queues.put('emails', { visibilityTimeoutMs: 30_000, maxReceives: 5, deadLetterQueue: 'emails-dead' })
await node.queues.send('emails', { to: 'ada@example.com', subject: 'hello' }, { priority: 5 })

const [message] = await node.queues.receive('emails', { max: 10, waitMs: 1_000 })
console.log('received:', message.body.to, 'delivery', message.receiveCount)
await node.queues.ack('emails', message.receipt) // resolved once committed to the WAL

const version = await node.kv.put('config/theme', 'dark')
const entry = await node.kv.get('config/theme') // linearizable by default
console.log('kv:', Buffer.from(entry.value).toString(), entry.version === version)

try {
  await node.kv.put('config/theme', 'light', { ifVersion: version + 1 })
} catch (error) {
  console.log('conflict:', error.code) // errors carry the contract's stable codes
}

await node.close()
