// `k6/http` under the shim: the same synchronous calls and Response fields
// the scripts use (status, body as text, canonical header names, json(),
// request, timings), performed by sync-http.ts. Anything the shim does not
// model (form bodies, binary bodies, named batches) throws instead of
// pretending.
import { recordRequest } from './k6-shim-state.js'
import { syncRequests, type SyncHttpResult } from './sync-http.js'

export interface ShimParams {
  headers?: Record<string, string>
  tags?: Record<string, string>
  timeout?: string | number
}

type Body = string | null | undefined

interface ShimRequest {
  method: string
  url: string
  body: Body
  params: ShimParams | null | undefined
}

/** k6's default request timeout. */
const REQUEST_TIMEOUT_MS_DEFAULT = 60_000

export class ShimResponse {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string>
  readonly url: string
  readonly error: string
  readonly error_code: number
  readonly request: { method: string; url: string; headers: Record<string, string[]>; body: string }
  readonly timings: { duration: number }

  constructor(request: ShimRequest, result: SyncHttpResult) {
    this.status = result.status
    this.body = result.body
    this.headers = Object.fromEntries(Object.entries(result.headers).map(([name, value]) => [canonicalHeader(name), value]))
    this.url = request.url
    this.error = result.error
    this.error_code = result.error === '' ? 0 : 1000
    this.request = {
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(Object.entries(request.params?.headers ?? {}).map(([name, value]) => [name, [value]])),
      body: request.body ?? '',
    }
    this.timings = { duration: result.durationMs }
  }

  json(selector?: string): unknown {
    if (selector !== undefined) throw new Error('the k6 shim does not model json(selector)')
    return JSON.parse(this.body) as unknown
  }
}

/** Go's canonical form, which k6 uses for response header names: `x-version` → `X-Version`. */
function canonicalHeader(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-')
}

function timeoutMsOf(timeout: string | number | undefined): number {
  if (timeout === undefined) return REQUEST_TIMEOUT_MS_DEFAULT
  if (typeof timeout === 'number') return timeout
  const match = /^(\d+)(ms|s|m)$/.exec(timeout)
  if (match === null) throw new Error(`the k6 shim does not parse timeout '${timeout}'`)
  return Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : 60_000)
}

function perform(requests: ShimRequest[]): ShimResponse[] {
  for (const request of requests) {
    if (request.body !== null && request.body !== undefined && typeof request.body !== 'string') throw new Error('the k6 shim only sends string bodies')
  }
  const results = syncRequests(
    requests.map((r) => ({
      method: r.method,
      url: r.url,
      headers: { ...r.params?.headers },
      body: r.body ?? null,
      timeoutMs: timeoutMsOf(r.params?.timeout),
    })),
  )
  return requests.map((request, i) => {
    const result = results[i]!
    recordRequest({
      method: request.method,
      url: request.url,
      status: result.status,
      tag: request.params?.tags?.['name'],
      authorization: request.params?.headers?.['Authorization'],
      error: result.error,
    })
    return new ShimResponse(request, result)
  })
}

export function request(method: string, url: string, body?: Body, params?: ShimParams | null): ShimResponse {
  return perform([{ method, url, body, params }])[0]!
}

export function get(url: string, params?: ShimParams | null): ShimResponse {
  return request('GET', url, null, params)
}

export function post(url: string, body?: Body, params?: ShimParams | null): ShimResponse {
  return request('POST', url, body, params)
}

export function put(url: string, body?: Body, params?: ShimParams | null): ShimResponse {
  return request('PUT', url, body, params)
}

export function del(url: string, body?: Body, params?: ShimParams | null): ShimResponse {
  return request('DELETE', url, body, params)
}

type BatchEntry = string | [string, string, Body?, (ShimParams | null)?] | { method: string; url: string; body?: Body; params?: ShimParams | null }

/** All requests at once, answered in order (k6 caps the parallelism with its `batch` options; the shim does not). */
export function batch(requests: BatchEntry[]): ShimResponse[] {
  if (!Array.isArray(requests)) throw new Error('the k6 shim only models batch() with an array')
  return perform(
    requests.map((entry) => {
      if (typeof entry === 'string') return { method: 'GET', url: entry, body: null, params: null }
      if (Array.isArray(entry)) return { method: entry[0], url: entry[1], body: entry[2], params: entry[3] }
      return { method: entry.method, url: entry.url, body: entry.body, params: entry.params }
    }),
  )
}

export default { request, get, post, put, del, batch }
