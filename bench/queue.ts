// `npm run bench -- queue [--json] [--nodes 1|3] [--seconds 3] [--sync always|none] [--shards 8] [--threads N] [--transport inproc|tcp|both] [--client thread|inline]`
//
// Durable replicated queue operations: enqueue in batches of 100, one message
// per call with 64 concurrent callers, and receive+ack.
//   inproc  through the embedding API (no network to the client); with 3
//           nodes, callers spread over all nodes (followers forward).
//   tcp     through the SDK (`troupe/client`) over the client protocol: each
//           node serves it on a loopback port, the SDK routes every call to
//           the shard's leader and pipelines the callers' requests over one
//           connection per node. The SDK runs in a worker thread of this
//           process (`--client thread`, the default: its own event loop, as
//           a client process would have, sharing the 2 cores) or on the
//           nodes' main thread (`--client inline`).
//   both    the two, on the same nodes, and the TCP/in-process ratio per row.
import { Worker } from 'node:worker_threads'
import { connect } from '../src/client/index.js'
import { startClientServer, type ClientServerHandle } from '../src/net/index.js'
import type { BenchMain, Measurement } from './lib/report.js'
import { choiceOption, formatTable } from './lib/report.js'
import type { LoopResult } from './lib/closed-loop.js'
import { nodeBenchSettings, startBenchNodes } from './lib/bench-nodes.js'
import { inProcess, overTcp, queueRounds } from './lib/queue-rounds.js'
import type { QueueClientWorkerData } from './fixtures/queue-client-worker.js'

type Transport = 'inproc' | 'tcp'

/** Runs the rounds through the SDK in a worker thread (its own event loop, as a client process would have). */
function roundsInWorker(data: QueueClientWorkerData): Promise<LoopResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fixtures/queue-client-worker.js', import.meta.url), { workerData: data })
    worker.once('message', (reply: { ok: true; results: LoopResult[] } | { ok: false; message: string }) => {
      if (reply.ok) resolve(reply.results)
      else reject(new Error(`queue client worker: ${reply.message}`))
    })
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`queue client worker exited with code ${code} before reporting`)))
  })
}

export const main: BenchMain = async ({ options }) => {
  const { nodeCount, durationMs, sync, shards, threads } = nodeBenchSettings(options)
  const transportOption = choiceOption(options, 'transport', ['inproc', 'tcp', 'both'] as const, 'inproc')
  const transports: Transport[] = transportOption === 'both' ? ['inproc', 'tcp'] : [transportOption]
  const clientThread = choiceOption(options, 'client', ['thread', 'inline'] as const, 'thread') === 'thread'
  const cluster = await startBenchNodes(nodeCount, { sync, shards, threads })
  const { nodes } = cluster
  const servers: ClientServerHandle[] = []
  const queues = Array.from({ length: shards }, (_, i) => `bench-${i}`)
  const rows: Measurement[] = []
  const results = new Map<Transport, LoopResult[]>()
  try {
    for (const queue of queues) await nodes[0]!.queues.put(queue)
    for (const transport of transports) {
      let loops: LoopResult[]
      if (transport === 'inproc') loops = await queueRounds(inProcess(nodes), queues, durationMs)
      else {
        for (const node of nodes) servers.push(await startClientServer(node, { host: '127.0.0.1', port: 0 }))
        const addresses = servers.map((server) => server.advertised)
        if (clientThread) loops = await roundsInWorker({ nodes: addresses, queues, durationMs })
        else {
          const client = await connect({ nodes: addresses, clientName: 'bench-queue' })
          try {
            loops = await queueRounds(overTcp(client), queues, durationMs)
          } finally {
            await client.close()
          }
        }
      }
      const [batched, single, consume] = loops
      results.set(transport, [batched!, single!, consume!])
      const via = transport === 'inproc' ? 'in-process' : 'TCP SDK'
      rows.push({ name: `${via}: enqueue, batches of 100 (16 callers, ${nodeCount} node)`, ...batched! })
      rows.push({ name: `${via}: enqueue, 1 per call (64 callers, ${nodeCount} node)`, ...single! })
      rows.push({ name: `${via}: receive+ack, up to 10 per call (64 callers, ${nodeCount} node)`, ...consume! })
    }
  } finally {
    for (const server of servers) await server.close()
    await cluster.close()
  }
  process.stdout.write(
    `queue benchmark: ${nodeCount} node(s), sync ${sync}, ${shards} shards, ${threads} shard thread(s) per node` +
      (results.has('tcp') ? `, SDK ${clientThread ? 'in a worker thread' : 'on the main thread'}` : '') +
      '\n',
  )
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
    ...(results.has('tcp') ? { client: clientThread ? 'thread' : 'inline' } : {}),
    ...(tcpRatio ? { tcpRatio } : {}),
    operations: rows,
  }
}
