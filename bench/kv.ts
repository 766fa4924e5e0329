// `npm run bench -- kv [--json] [--nodes 1|3] [--seconds 3] [--sync always|none] [--shards 8] [--threads N] [--reads safe|lease-based]`
//
// KV through the embedding API: puts (64 callers) and linearizable gets
// (64 callers, ReadIndex batched per shard; `--reads lease-based`: served
// from the leader lease) on 1,000 keys of 100 bytes.
import type { BenchMain, Measurement } from './lib/report.js'
import { choiceOption, formatTable } from './lib/report.js'
import { closedLoop } from './lib/closed-loop.js'
import { nodeBenchSettings, startBenchNodes } from './lib/bench-nodes.js'

const KEYS = 1000


export const main: BenchMain = async ({ options }) => {
  const { nodeCount, durationMs, sync, shards, threads } = nodeBenchSettings(options)
  const reads = choiceOption(options, 'reads', ['safe', 'lease-based'] as const, 'safe')
  const cluster = await startBenchNodes(nodeCount, { sync, shards, threads, readOnly: reads })
  const { nodes } = cluster
  const node = (loop: number) => nodes[loop % nodes.length]!
  const value = Buffer.alloc(100, 7)
  const rows: Measurement[] = []
  try {
    for (let k = 0; k < KEYS; k += 50) await Promise.all(Array.from({ length: 50 }, (_, i) => nodes[0]!.kv.put(`key-${k + i}`, value)))
    const puts = await closedLoop(64, durationMs, async (loop, n) => {
      await node(loop).kv.put(`key-${n % KEYS}`, value)
      return 1
    })
    rows.push({ name: `put (64 callers, ${nodeCount} node)`, ...puts })
    const gets = await closedLoop(64, durationMs, async (loop, n) => {
      const entry = await node(loop).kv.get(`key-${n % KEYS}`)
      if (!entry) throw new Error('a written key read as missing')
      return 1
    })
    rows.push({ name: `linearizable get${reads === 'lease-based' ? ' (lease)' : ''} (64 callers, ${nodeCount} node)`, ...gets })
  } finally {
    await cluster.close()
  }
  process.stdout.write(`kv benchmark: ${nodeCount} node(s), sync ${sync}, ${shards} shards, ${threads} shard thread(s) per node, reads ${reads}\n`)
  process.stdout.write(formatTable(rows) + '\n')
  return {
    bench: 'kv',
    opsPerSec: rows[0]!.opsPerSec,
    p50Ms: rows[0]!.p50Ms!,
    p99Ms: rows[0]!.p99Ms!,
    nodes: nodeCount,
    sync,
    reads,
    operations: rows,
    linearizableGetsPerSec: rows[1]!.opsPerSec,
  }
}
