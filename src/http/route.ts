// What a route is: its method and path pattern (also its metrics label and
// its OpenAPI path), whether it needs the token, what it accepts, what it can
// answer, and the handler. The OpenAPI document is built from these.
import type { IncomingMessage } from 'node:http'
import type { JsonSchema } from './request-schemas.js'

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE'

export interface Reply {
  status: number
  /** A JSON answer is a string already serialised; raw bytes go as they are. */
  body?: string | Uint8Array
  contentType?: string
  headers?: Record<string, string | number>
}

export interface RouteParams {
  /** `{name}`: a queue name, as it appears in the path (decoded). */
  name?: string
  /** `{key}`: a KV key, URL-decoded. */
  key?: string
  /** `{id}`: a node id, as it appears in the path (the route checks it). */
  id?: string
}

export interface RequestContext {
  req: IncomingMessage
  params: RouteParams
  query: URLSearchParams
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal
  /** True once the server began shutting down (the reason `signal` aborted, if it did). */
  closing(): boolean
  /** The JSON body (`{}` when empty), read within the request limit. */
  readJson(): Promise<unknown>
  /** The raw body, read within `limitBytes` (413 beyond). */
  readRaw(limitBytes: number): Promise<Buffer>
}

export interface RouteDoc {
  summary: string
  /** Schema of a JSON request body, or `raw` for an octet body. */
  requestBody?: JsonSchema | 'raw'
  /** Schema of the query as an object of its parameters. */
  query?: JsonSchema
  /** Every status the route can answer, with a description. */
  responses: Record<number, string>
}

export interface Route {
  method: HttpMethod
  /** OpenAPI-style pattern, e.g. `/v1/queues/{name}/receive`; `{key}` takes the rest of the path. */
  pattern: string
  /** Needs the bearer token when one is configured. */
  auth: boolean
  doc: RouteDoc
  handler(ctx: RequestContext): Promise<Reply>
}

const JSON_TYPE = 'application/json; charset=utf-8'

export function jsonReply(status: number, value: unknown, headers?: Record<string, string | number>): Reply {
  return { status, body: JSON.stringify(value), contentType: JSON_TYPE, ...(headers ? { headers } : {}) }
}

export const NO_CONTENT: Reply = { status: 204 }
