// `npm run bench -- http [--json] [--seconds 3] [--concurrency 32] [--sync always|none] [--threads N]`
//
// The HTTP API's cost: send, receive+ack, KV put and KV get through HTTP
// (keep-alive connections, one per concurrent loop, the load generator in a
// child process) next to the same operations through the in-process node API
// at the same concurrency, against one node in this process. The JSON line's
// headline is HTTP send; `baseline` is in-process send; `operations` has all,
// with the server process's CPU time per operation for both paths: on a
// shared, loaded machine that is steadier than throughput.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fork } from 'node:child_process'
import { pino } from 'pino'
import { startHttpServer } from '../src/http/index.js'
import { startNode } from '../src/index.js'
import type { TroupeNode } from '../src/node/troupe-node.js'
import type { HttpLoadJob, HttpLoadResult, HttpOperation } from './lib/http-load-client.js'
import { createLatencyHistogram, formatTable, summarize, type BenchMain, type Measurement, choiceOption, numberOption } from './lib/report.js'

const WARMUP_MS = 500
const KEYS = 1000
const OPERATIONS: HttpOperation[] = ['send', 'receive-ack', 'kv-put', 'kv-get']


async function inProcess(
  node: TroupeNode,
  operation: HttpOperation,
  queue: string,
  concurrency: number,
  durationMs: number,
): Promise<Measurement & { drained: boolean; cpuMicrosPerOp: number }> {
  const histogram = createLatencyHistogram()
  const payload = 'x'.repeat(100)
  const value = Buffer.alloc(100, 7)
  const measureFromMs = performance.now() + WARMUP_MS
  const endMs = measureFromMs + durationMs
  let operations = 0
  let sequence = 0
  let drained = false
  const operate = async (n: number): Promise<boolean> => {
    switch (operation) {
      case 'send':
        await node.queues.send(queue, { n, payload })
        return true
      case 'receive-ack': {
        const [message] = await node.queues.receive(queue, { max: 1 })
        if (message === undefined) return false
        await node.queues.ack(queue, message.receipt)
        return true
      }
      case 'kv-put':
        await node.kv.put(`bench-${n % KEYS}`, value)
        return true
      case 'kv-get':
        await node.kv.get(`bench-${n % KEYS}`)
        return true
    }
  }
  const loop = async () => {
    while (!drained) {
      const beganMs = performance.now()
      if (beganMs >= endMs) return
      if (!(await operate(sequence++))) {
        drained = true
        return
      }
      if (beganMs >= measureFromMs) {
        histogram.recordValue(Math.max(1, Math.round((performance.now() - beganMs) * 1000)))
        operations++
      }
    }
  }
  let cpuAtStart = cpuMicros()
  const timer = setTimeout(() => (cpuAtStart = cpuMicros()), WARMUP_MS)
  await Promise.all(Array.from({ length: concurrency }, loop))
  clearTimeout(timer)
  const cpuMicrosPerOp = (cpuMicros() - cpuAtStart) / Math.max(1, operations)
  const elapsedMs = Math.min(performance.now(), endMs) - measureFromMs
  return { name: `${operation} in-process`, opsPerSec: (operations * 1000) / elapsedMs, ...summarize(histogram), drained, cpuMicrosPerOp }
}

/** CPU time of this whole process (all threads: gateway, shards, WAL, HTTP server) in µs. */
function cpuMicros(): number {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}

function overHttp(job: HttpLoadJob): Promise<HttpLoadResult & { cpuMicros: number }> {
  return new Promise((resolve, reject) => {
    let cpuAtStart = cpuMicros()
    const child = fork(new URL('./lib/http-load-client.js', import.meta.url), [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.on('message', (message) => {
      if ((message as { measuring?: boolean }).measuring === true) cpuAtStart = cpuMicros()
      else resolve({ ...(message as HttpLoadResult), cpuMicros: cpuMicros() - cpuAtStart })
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited with ${code}`))
    })
  })
}

/** Enough messages that receive+ack does not run dry within the run (refilled before each measurement). */
async function fill(node: TroupeNode, queue: string, count: number): Promise<void> {
  const batch = Array.from({ length: 1000 }, (_, i) => ({ body: { n: i, payload: 'x'.repeat(100) } }))
  await node.queues.purge(queue)
  for (let sent = 0; sent < count; sent += batch.length) await node.queues.sendBatch(queue, batch)
}

export const main: BenchMain = async ({ json, options }) => {
  const seconds = numberOption(options, 'seconds', 3)
  const concurrency = numberOption(options, 'concurrency', 32)
  const prefill = numberOption(options, 'prefill', 60_000)
  const threads = options.has('threads') ? numberOption(options, 'threads', 1) : undefined
  const sync = choiceOption(options, 'sync', ['always', 'none'] as const, 'always')
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-http-'))
  const node = await startNode({ dataDir: dir, shards: 8, sync, ...(threads !== undefined ? { threads } : {}), logger: pino({ level: 'warn' }) })
  const server = await startHttpServer(node, { host: '127.0.0.1', port: 0 })
  const rows: Measurement[] = []
  const operations: Record<string, unknown>[] = []
  try {
    await node.queues.put('bench-send')
    await node.queues.put('bench-drain')
    for (let key = 0; key < KEYS; key++) await node.kv.put(`bench-${key}`, Buffer.alloc(100, 7))
    for (const operation of OPERATIONS) {
      const queue = operation === 'receive-ack' ? 'bench-drain' : 'bench-send'
      if (operation === 'receive-ack') await fill(node, queue, prefill)
      const local = await inProcess(node, operation, queue, concurrency, seconds * 1000)
      if (operation === 'receive-ack') await fill(node, queue, prefill)
      const remote = await overHttp({ port: server.address.port, operation, queue, keys: KEYS, concurrency, warmupMs: WARMUP_MS, durationMs: seconds * 1000 })
      const viaHttp: Measurement = { name: `${operation} http`, opsPerSec: (remote.operations * 1000) / remote.elapsedMs, ...remote.latency }
      rows.push({ ...local, opsPerSec: Math.round(local.opsPerSec) }, { ...viaHttp, opsPerSec: Math.round(viaHttp.opsPerSec) })
      operations.push({
        operation,
        http: viaHttp,
        inProcess: { name: local.name, opsPerSec: local.opsPerSec, p50Ms: local.p50Ms, p99Ms: local.p99Ms, p999Ms: local.p999Ms, maxMs: local.maxMs },
        // > 1 means HTTP is slower: in-process throughput over HTTP throughput at equal concurrency.
        costRatio: Math.round((local.opsPerSec / viaHttp.opsPerSec) * 100) / 100,
        // Server-process CPU per operation (the load client runs in another process).
        inProcessCpuMicrosPerOp: Math.round(local.cpuMicrosPerOp),
        httpCpuMicrosPerOp: Math.round(remote.cpuMicros / Math.max(1, remote.operations)),
        httpErrors: remote.errors,
        ranDry: local.drained || remote.drained,
      })
      if (!json) process.stdout.write(`${operation}: done\n`)
    }
  } finally {
    await server.close()
    await node.close()
    await rm(dir, { recursive: true, force: true })
  }
  if (!json) {
    process.stdout.write(`\nHTTP vs in-process, concurrency ${concurrency}, ${seconds} s each, sync=${sync}\n`)
    process.stdout.write(formatTable(rows) + '\n\n')
    for (const o of operations) {
      process.stdout.write(
        `${String(o['operation'])}: in-process/HTTP throughput = ${String(o['costRatio'])}x; ` +
          `server CPU per op ${String(o['inProcessCpuMicrosPerOp'])} µs in-process, ${String(o['httpCpuMicrosPerOp'])} µs over HTTP` +
          `${o['ranDry'] ? ' (queue ran dry)' : ''}\n`,
      )
    }
  }
  const send = operations[0]!
  const http = send['http'] as Measurement
  return {
    bench: 'http',
    opsPerSec: Math.round(http.opsPerSec),
    p50Ms: http.p50Ms!,
    p99Ms: http.p99Ms!,
    baseline: send['inProcess'] as Measurement,
    concurrency,
    seconds,
    sync,
    operations,
  }
}
