// `npm run bench -- queue [--json] [--nodes 1|3] [--seconds 3] [--sync always|none] [--shards 8] [--threads N]`
//
// Durable replicated queue operations through the embedding API (no HTTP):
// enqueue in batches of 100, one message per call with 64 concurrent callers,
// and receive+ack. With 3 nodes, callers spread over all nodes (followers
// forward to the leaders).
import type { BenchMain, Measurement } from './lib/report.js'
import { formatTable } from './lib/report.js'
import { closedLoop } from './lib/closed-loop.js'
import { nodeBenchSettings, startBenchNodes } from './lib/bench-nodes.js'


export const main: BenchMain = async ({ options }) => {
  const { nodeCount, durationMs, sync, shards, threads } = nodeBenchSettings(options)
  const cluster = await startBenchNodes(nodeCount, { sync, shards, threads })
  const { nodes } = cluster
  const node = (loop: number) => nodes[loop % nodes.length]!
  const queues = Array.from({ length: shards }, (_, i) => `bench-${i}`)
  for (const queue of queues) await nodes[0]!.queues.put(queue)
  const body = { payload: 'x'.repeat(80) }
  const batch = Array.from({ length: 100 }, () => ({ body }))
  const rows: Measurement[] = []
  try {
    const batched = await closedLoop(16, durationMs, async (loop) => {
      await node(loop).queues.sendBatch(queues[loop % queues.length]!, batch)
      return 100
    })
    rows.push({ name: `enqueue, batches of 100 (16 callers, ${nodeCount} node)`, ...batched })
    const single = await closedLoop(64, durationMs, async (loop) => {
      await node(loop).queues.send(queues[loop % queues.length]!, body)
      return 1
    })
    rows.push({ name: `enqueue, 1 per call (64 callers, ${nodeCount} node)`, ...single })
    const consume = await closedLoop(64, durationMs, async (loop) => {
      const queue = queues[loop % queues.length]!
      const messages = await node(loop).queues.receive(queue, { max: 10 })
      if (messages.length === 0) return 0
      await node(loop).queues.ack(queue, messages.map((m) => m.receipt))
      return messages.length
    })
    rows.push({ name: `receive+ack, up to 10 per call (64 callers, ${nodeCount} node)`, ...consume })
  } finally {
    await cluster.close()
  }
  process.stdout.write(`queue benchmark: ${nodeCount} node(s), sync ${sync}, ${shards} shards, ${threads} shard thread(s) per node\n`)
  process.stdout.write(formatTable(rows) + '\n')
  const headline = rows[1]!
  return {
    bench: 'queue',
    opsPerSec: headline.opsPerSec,
    p50Ms: headline.p50Ms!,
    p99Ms: headline.p99Ms!,
    nodes: nodeCount,
    sync,
    operations: rows,
  }
}
