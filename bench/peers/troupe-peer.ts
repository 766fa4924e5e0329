// Troupe, 3 nodes as real processes, `--sync always` (a write is acknowledged
// once fdatasync'd on a majority): the same rows as the peers, through the
// TCP SDK (default) or the HTTP API (`--transport http`); the rows name the
// transport.
import { runClosedLoop } from './closed-loop.js'
import { runAll } from './preload.js'
import { retry, SETUP_RETRY } from './retry.js'
import { startTroupeCluster } from './troupe-cluster.js'
import type { TroupeBenchClient } from './troupe-client.js'
import { createTroupeHttpClient } from './troupe-http-client.js'
import { createTroupeTcpClient } from './troupe-tcp-client.js'
import { ENQUEUE_BATCH, KV_KEYS, kvKey, RECEIVE_BATCH, type PeerMeasurement, type RunContext } from './workload.js'

const QUEUE = 'bench'
const NODES = 3

export const TROUPE_PEER = 'Troupe (3 nodes)'

export function troupeConditions(transport: string): string {
  return `${NODES} nodes, --sync always (fdatasync on a majority before ack), 8 shards, ${transport === 'tcp' ? 'TCP SDK' : 'HTTP keep-alive'}`
}

export async function runTroupe(context: RunContext): Promise<PeerMeasurement[]> {
  const cluster = await startTroupeCluster(context.dataDir, NODES)
  let client: TroupeBenchClient | undefined
  try {
    client =
      context.transport === 'tcp'
        ? await createTroupeTcpClient(
            cluster.nodes.map((node) => node.tcp),
            { sizeBytes: context.sizeBytes },
          )
        : createTroupeHttpClient(
            cluster.nodes.map((node) => node.http),
            { clients: context.clients, sizeBytes: context.sizeBytes },
          )
    const troupe = client
    await retry('troupe: create queue', SETUP_RETRY, () => troupe.createQueue(QUEUE))
    const conditions = troupeConditions(troupe.transport)
    const row = (workload: PeerMeasurement['workload'], detail: string, result: PeerMeasurement['result']): PeerMeasurement => ({
      workload,
      peer: TROUPE_PEER,
      summary: `3 nodes, fsync, ${troupe.transport}`,
      conditions: `${conditions}; ${detail}`,
      result,
    })
    context.log(`troupe (${troupe.transport}): send`)
    const single = await runClosedLoop(context, async (c) => {
      await troupe.send(c, QUEUE)
      return 1
    })
    context.log(`troupe (${troupe.transport}): send batch`)
    const batch = await runClosedLoop(context, async (c) => {
      await troupe.sendBatch(c, QUEUE, ENQUEUE_BATCH)
      return ENQUEUE_BATCH
    })
    context.log(`troupe (${troupe.transport}): receive + ack`)
    const consume = await runClosedLoop(context, (c) => troupe.receiveAndAck(c, QUEUE, RECEIVE_BATCH))
    context.log(`troupe (${troupe.transport}): kv put`)
    const put = await runClosedLoop(context, async (c, sequence) => {
      await troupe.kvPut(c, kvKey(sequence))
      return 1
    })
    await runAll(KV_KEYS, context.clients, (i) => troupe.kvPut(i, kvKey(i)))
    context.log(`troupe (${troupe.transport}): kv get`)
    const get = await runClosedLoop(context, async (c, sequence) => {
      await troupe.kvGet(c, kvKey(sequence))
      return 1
    })
    return [
      row('enqueue-1', 'send', single),
      row('enqueue-100', `send batch of ${ENQUEUE_BATCH}`, batch),
      row('consume-ack', `receive up to ${RECEIVE_BATCH} + one ack of the receipts`, consume),
      row('kv-put', 'put', put),
      row('kv-get', 'linearizable get (default)', get),
    ]
  } finally {
    await client?.close()
    await cluster.stop()
  }
}
