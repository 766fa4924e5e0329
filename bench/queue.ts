// `npm run bench -- queue [--json] [--nodes 1|3] [--seconds 3] [--sync always|none] [--shards 8] [--threads N] [--transport inproc|tcp|both]`
//
// Durable replicated queue operations: enqueue in batches of 100, one message
// per call with 64 concurrent callers, and receive+ack.
//   inproc  through the embedding API (no network to the client); with 3
//           nodes, callers spread over all nodes (followers forward).
//   tcp     through the SDK (`troupe/client`) over the client protocol: each
//           node serves it on a loopback port, the SDK routes every call to
//           the shard's leader and pipelines the callers' requests over one
//           connection per node. The SDK runs in this process, so its CPU
//           is shared with the nodes'.
//   both    the two, on the same nodes, and the TCP/in-process ratio per row.
import { connect, type TroupeClient } from '../src/client/index.js'
import { startClientServer, type ClientServerHandle } from '../src/net/index.js'
import type { TroupeNode } from '../src/index.js'
import type { BenchMain, Measurement } from './lib/report.js'
import { formatTable } from './lib/report.js'
import { closedLoop, type LoopResult } from './lib/closed-loop.js'
import { nodeBenchSettings, startBenchNodes } from './lib/bench-nodes.js'

/** The queue operations a bench round needs, by the embedding API or the SDK. */
interface QueueApi {
  sendBatch(queue: string, messages: { body: unknown }[]): Promise<unknown>
  send(queue: string, body: unknown): Promise<unknown>
  receive(queue: string, options: { max: number }): Promise<{ receipt: string }[]>
  ack(queue: string, receipts: string[]): Promise<void>
}

type Transport = 'inproc' | 'tcp'

async function round(apiOf: (loop: number) => QueueApi, queues: string[], durationMs: number): Promise<LoopResult[]> {
  const body = { payload: 'x'.repeat(80) }
  const batch = Array.from({ length: 100 }, () => ({ body }))
  const batched = await closedLoop(16, durationMs, async (loop) => {
    await apiOf(loop).sendBatch(queues[loop % queues.length]!, batch)
    return 100
  })
  const single = await closedLoop(64, durationMs, async (loop) => {
    await apiOf(loop).send(queues[loop % queues.length]!, body)
    return 1
  })
  const consume = await closedLoop(64, durationMs, async (loop) => {
    const queue = queues[loop % queues.length]!
    const messages = await apiOf(loop).receive(queue, { max: 10 })
    if (messages.length === 0) return 0
    await apiOf(loop).ack(queue, messages.map((m) => m.receipt))
    return messages.length
  })
  return [batched, single, consume]
}

function inProcess(nodes: TroupeNode[]): (loop: number) => QueueApi {
  return (loop) => nodes[loop % nodes.length]!.queues
}

function overTcp(client: TroupeClient): (loop: number) => QueueApi {
  const api: QueueApi = {
    sendBatch: (queue, messages) => client.queues.sendBatch(queue, messages),
    send: (queue, body) => client.queues.send(queue, body),
    receive: (queue, options) => client.queues.receive(queue, options),
    ack: (queue, receipts) => client.queues.ack(queue, receipts),
  }
  return () => api
}

export const main: BenchMain = async ({ options }) => {
  const { nodeCount, durationMs, sync, shards, threads } = nodeBenchSettings(options)
  const transportOption = options.get('transport') ?? 'inproc'
  if (transportOption !== 'inproc' && transportOption !== 'tcp' && transportOption !== 'both') {
    throw new Error(`--transport must be inproc, tcp or both, got ${String(transportOption)}`)
  }
  const transports: Transport[] = transportOption === 'both' ? ['inproc', 'tcp'] : [transportOption]
  const cluster = await startBenchNodes(nodeCount, { sync, shards, threads })
  const { nodes } = cluster
  const servers: ClientServerHandle[] = []
  let client: TroupeClient | undefined
  const queues = Array.from({ length: shards }, (_, i) => `bench-${i}`)
  const rows: Measurement[] = []
  const results = new Map<Transport, LoopResult[]>()
  try {
    for (const queue of queues) await nodes[0]!.queues.put(queue)
    for (const transport of transports) {
      let apiOf: (loop: number) => QueueApi
      if (transport === 'inproc') apiOf = inProcess(nodes)
      else {
        for (const node of nodes) servers.push(await startClientServer(node, { host: '127.0.0.1', port: 0 }))
        client = await connect({ nodes: servers.map((server) => server.advertised), clientName: 'bench-queue' })
        apiOf = overTcp(client)
      }
      const [batched, single, consume] = await round(apiOf, queues, durationMs)
      results.set(transport, [batched!, single!, consume!])
      const via = transport === 'inproc' ? 'in-process' : 'TCP SDK'
      rows.push({ name: `${via}: enqueue, batches of 100 (16 callers, ${nodeCount} node)`, ...batched! })
      rows.push({ name: `${via}: enqueue, 1 per call (64 callers, ${nodeCount} node)`, ...single! })
      rows.push({ name: `${via}: receive+ack, up to 10 per call (64 callers, ${nodeCount} node)`, ...consume! })
    }
  } finally {
    await client?.close()
    for (const server of servers) await server.close()
    await cluster.close()
  }
  process.stdout.write(`queue benchmark: ${nodeCount} node(s), sync ${sync}, ${shards} shards, ${threads} shard thread(s) per node\n`)
  process.stdout.write(formatTable(rows) + '\n')
  const inproc = results.get('inproc')
  const tcp = results.get('tcp')
  let tcpRatio: number[] | undefined
  if (inproc && tcp) {
    tcpRatio = tcp.map((row, i) => row.opsPerSec / inproc[i]!.opsPerSec)
    const labels = ['batches of 100', '1 per call', 'receive+ack']
    process.stdout.write(`TCP / in-process throughput: ${labels.map((label, i) => `${label} ${(tcpRatio![i]! * 100).toFixed(0)}%`).join(', ')}\n`)
  }
  const headline = (tcp ?? inproc)![1]!
  return {
    bench: 'queue',
    opsPerSec: headline.opsPerSec,
    p50Ms: headline.p50Ms,
    p99Ms: headline.p99Ms,
    ...(inproc && tcp ? { baseline: { name: 'in-process embedding API', opsPerSec: inproc[1]!.opsPerSec, p50Ms: inproc[1]!.p50Ms, p99Ms: inproc[1]!.p99Ms } } : {}),
    nodes: nodeCount,
    sync,
    transports,
    ...(tcpRatio ? { tcpRatio } : {}),
    operations: rows,
  }
}
