// A worker on the SDK: consume() receives, runs the handler, acks on success,
// nacks with a growing delay on failure and extends the visibility of slow
// handlers. Stops gracefully when its AbortSignal aborts (here: on SIGINT or
// once every job is done). Run against a node: `node examples/client-worker.mjs`.
import { connect } from 'troupe/client'

const client = await connect({ nodes: (process.env.TROUPE_NODES ?? '127.0.0.1:7281').split(',') })
await client.queues.put('thumbnails', { visibilityTimeoutMs: 10_000 })
await client.queues.sendBatch('thumbnails', [1, 2, 3, 4, 5].map((n) => ({ body: { image: n } })))

const stop = new AbortController()
process.once('SIGINT', () => stop.abort())
const done = new Set()
let failedOnce = false

const worker = client.consume('thumbnails', async (message, { signal }) => {
  if (message.body.image === 3 && !failedOnce) {
    failedOnce = true
    throw new Error('transient failure') // nacked, delivered again after nackBackoff.initialMs
  }
  await new Promise((resolve) => setTimeout(resolve, 20)) // the work; `signal` aborts if the worker must give up
  done.add(message.body.image)
  if (done.size === 5) stop.abort()
}, { concurrency: 4, waitMs: 1_000, signal: stop.signal, nackBackoff: { initialMs: 50 } })

const stats = await worker.done
console.log('handled:', [...done].sort().join(','), 'processed:', stats.processed, 'failed:', stats.failed)
await client.close()
