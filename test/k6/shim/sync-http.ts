// Blocking HTTP for the k6 shim: k6's http functions return the answer
// synchronously, so the calling thread hands the requests to a worker and
// waits on a shared buffer (Atomics.wait) until the worker has the answers.
import { Worker } from 'node:worker_threads'

export interface SyncHttpRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string | null
  timeoutMs: number
}

export interface SyncHttpJob {
  requests: SyncHttpRequest[]
  shared: SharedArrayBuffer
}

export interface SyncHttpResult {
  status: number
  body: string
  /** Lower-case header names, as fetch gives them. */
  headers: Record<string, string>
  error: string
  durationMs: number
}

/** The answers of one call must fit here (the scripts' answers are small). */
const ANSWER_BYTES_MAX = 16 * 1024 * 1024
/** Beyond every request's own timeout: the worker itself is stuck. */
const WORKER_GRACE_MS = 10_000

let worker: Worker | undefined
// One buffer for every call: the calls never overlap (the caller blocks).
let shared: SharedArrayBuffer | undefined

export function syncRequests(requests: SyncHttpRequest[]): SyncHttpResult[] {
  if (worker === undefined) {
    worker = new Worker(new URL('./sync-http-worker.js', import.meta.url))
    worker.unref()
  }
  shared ??= new SharedArrayBuffer(8 + ANSWER_BYTES_MAX)
  const flags = new Int32Array(shared, 0, 2)
  Atomics.store(flags, 0, 0)
  worker.postMessage({ requests, shared } satisfies SyncHttpJob)
  const waitMs = Math.max(0, ...requests.map((r) => r.timeoutMs)) + WORKER_GRACE_MS
  if (Atomics.wait(flags, 0, 0, waitMs) === 'timed-out') throw new Error(`the HTTP worker did not answer within ${waitMs} ms`)
  const length = Atomics.load(flags, 1)
  return JSON.parse(new TextDecoder().decode(new Uint8Array(shared, 8, length).slice())) as SyncHttpResult[]
}

export async function stopSyncHttp(): Promise<void> {
  await worker?.terminate()
  worker = undefined
}
