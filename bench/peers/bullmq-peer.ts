// BullMQ on Redis: Queue.add and Queue.addBulk (batches of 100) as the
// enqueue rows, a Worker with concurrency C as the consume row, once with
// `appendfsync always` and once with `everysec`. Completed jobs are removed
// (`removeOnComplete: true`), as an acked message is removed in Troupe.
import { createRequire } from 'node:module'
import { Queue, Worker } from 'bullmq'
import { createLatencyHistogram, summarize } from '../lib/report.js'
import { runClosedLoop, type LoadResult } from './closed-loop.js'
import type { AppendFsync } from './redis-config.js'
import { startRedis } from './redis-server.js'
import { ENQUEUE_BATCH, type PeerMeasurement, type RunContext } from './workload.js'

const QUEUE = 'bench'
const BULLMQ_VERSION = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version
const POLL_MS = 50

const FSYNC_NOTE: Record<AppendFsync, string> = {
  always: 'Redis AOF appendfsync always (fsync before reply)',
  everysec: 'Redis AOF appendfsync everysec (acknowledged before fsync; up to ~1 s lost on a crash)',
}

/**
 * A Worker's throughput over the timed window. Latency per job is from the
 * processor's start to the 'completed' event: the commit of the completion
 * (moveToFinished, which also fetches the next job) as BullMQ runs it.
 */
async function measureWorker(context: RunContext, connection: { host: string; port: number }): Promise<LoadResult> {
  const histogram = createLatencyHistogram()
  const startedAtMs = new Map<string, number>()
  const measureFromMs = performance.now() + context.warmupMs
  const endMs = measureFromMs + context.durationMs
  let stopAtMs = endMs
  let operations = 0
  let errors = 0
  let firstError: string | undefined
  let drainedAtMs: number | undefined
  const worker = new Worker(
    QUEUE,
    async (job) => {
      startedAtMs.set(job.id!, performance.now())
    },
    { connection, concurrency: context.clients, autorun: false },
  )
  worker.on('completed', (job) => {
    const nowMs = performance.now()
    const startMs = startedAtMs.get(job.id!)
    startedAtMs.delete(job.id!)
    if (startMs !== undefined && nowMs >= measureFromMs && nowMs <= stopAtMs) {
      operations++
      histogram.recordValue(Math.max(1, Math.round((nowMs - startMs) * 1000)))
    }
  })
  worker.on('drained', () => {
    const nowMs = performance.now()
    if (drainedAtMs === undefined && nowMs < stopAtMs) {
      drainedAtMs = Math.max(0, nowMs - measureFromMs)
      stopAtMs = Math.max(nowMs, measureFromMs)
    }
  })
  const onError = (error: Error) => {
    errors++
    firstError ??= error.message
  }
  worker.on('failed', (_job, error) => onError(error))
  worker.on('error', onError)
  const running = worker.run()
  while (performance.now() < stopAtMs) await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  await worker.close()
  await running
  const measuredMs = Math.max(0, Math.min(stopAtMs, endMs) - measureFromMs)
  const result: LoadResult = {
    ...summarize(histogram),
    opsPerSec: measuredMs > 0 ? (operations * 1000) / measuredMs : 0,
    operations,
    calls: operations,
    errors,
    measuredMs,
  }
  if (firstError !== undefined) result.firstError = firstError
  if (drainedAtMs !== undefined) result.drainedAtMs = drainedAtMs
  histogram.destroy()
  return result
}

async function runOnce(context: RunContext, appendfsync: AppendFsync): Promise<PeerMeasurement[]> {
  const redis = await startRedis(context, appendfsync, `bullmq-redis-${appendfsync}`)
  const connection = { host: '127.0.0.1', port: redis.port }
  const queue = new Queue(QUEUE, { connection, defaultJobOptions: { removeOnComplete: true } })
  const peer = `BullMQ (${appendfsync})`
  const summary = appendfsync === 'always' ? '1 Redis, fsync' : '1 Redis, no fsync'
  const conditions = `BullMQ ${BULLMQ_VERSION} on ${redis.version}, 1 server, ${FSYNC_NOTE[appendfsync]}, no replica`
  try {
    await queue.waitUntilReady()
    const data = { payload: 'x'.repeat(context.sizeBytes) }
    context.log(`bullmq ${appendfsync}: Queue.add`)
    const single = await runClosedLoop(context, async () => {
      await queue.add('job', data)
      return 1
    })
    context.log(`bullmq ${appendfsync}: Queue.addBulk`)
    const bulk = Array.from({ length: ENQUEUE_BATCH }, () => ({ name: 'job', data }))
    const batch = await runClosedLoop(context, async () => {
      await queue.addBulk(bulk)
      return ENQUEUE_BATCH
    })
    context.log(`bullmq ${appendfsync}: Worker`)
    const consume = await measureWorker(context, connection)
    return [
      { workload: 'enqueue-1', peer, summary, conditions: `${conditions}; Queue.add`, result: single },
      { workload: 'enqueue-100', peer, summary, conditions: `${conditions}; Queue.addBulk of ${ENQUEUE_BATCH}`, result: batch },
      { workload: 'consume-ack', peer, summary, conditions: `${conditions}; Worker concurrency ${context.clients}, p99 = job start to completed`, result: consume },
    ]
  } finally {
    await queue.close()
    await redis.process.stop()
  }
}

export async function runBullmq(context: RunContext): Promise<PeerMeasurement[]> {
  return [...(await runOnce(context, 'always')), ...(await runOnce(context, 'everysec'))]
}
