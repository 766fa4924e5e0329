// The worker behind sync-http.ts: performs the requests with fetch (keep-alive)
// while the caller's thread blocks, then writes the JSON answer into the
// shared buffer and wakes the caller.
import { parentPort } from 'node:worker_threads'
import type { SyncHttpJob, SyncHttpResult } from './sync-http.js'

const encoder = new TextEncoder()

async function perform(request: SyncHttpJob['requests'][number]): Promise<SyncHttpResult> {
  const startMs = performance.now()
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
    })
    const body = await response.text()
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => (headers[name] = value))
    return { status: response.status, body, headers, error: '', durationMs: performance.now() - startMs }
  } catch (error) {
    return { status: 0, body: '', headers: {}, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), durationMs: performance.now() - startMs }
  }
}

parentPort?.on('message', (job: SyncHttpJob) => {
  void Promise.all(job.requests.map(perform)).then((results) => {
    const flags = new Int32Array(job.shared, 0, 2)
    const out = new Uint8Array(job.shared, 8)
    let bytes = encoder.encode(JSON.stringify(results))
    if (bytes.length > out.length) {
      const tooLarge = results.map((r) => ({ ...r, status: 0, body: '', error: `answers exceed the shim's ${out.length} bytes` }))
      bytes = encoder.encode(JSON.stringify(tooLarge))
    }
    out.set(bytes)
    Atomics.store(flags, 1, bytes.length)
    Atomics.store(flags, 0, 1)
    Atomics.notify(flags, 0)
  })
})
