// The KV routes of CONTRACT §4: raw bodies, the version in `X-Version`.
import { checkKey, KV_VALUE_BYTES_MAX } from '../machines/index.js'
import type { TroupeNode } from '../node/troupe-node.js'
import { HttpError } from './http-error.js'
import { kvDeleteQuerySchema, kvGetQuerySchema, kvPutQuerySchema, type KvDeleteQuery, type KvGetQuery, type KvPutQuery } from './request-schemas.js'
import { queryValidator } from './request-validator.js'
import { jsonReply, NO_CONTENT, type RequestContext, type Route } from './route.js'

const validatePutQuery = queryValidator<KvPutQuery>(kvPutQuerySchema)
const validateGetQuery = queryValidator<KvGetQuery>(kvGetQuerySchema)
const validateDeleteQuery = queryValidator<KvDeleteQuery>(kvDeleteQuerySchema)

function keyOf(ctx: RequestContext): string {
  const error = checkKey(ctx.params.key)
  if (error !== undefined) throw new HttpError('INVALID_ARGUMENT', error.message, { field: 'key' })
  return ctx.params.key!
}

/** The query as an object; a repeated parameter is refused rather than silently picked. */
function queryObject(query: URLSearchParams): Record<string, string> {
  const object: Record<string, string> = {}
  for (const [name, value] of query) {
    if (name in object) throw new HttpError('INVALID_ARGUMENT', `query parameter '${name}' is repeated`, { field: `query.${name}` })
    object[name] = value
  }
  return object
}

const common = {
  400: 'INVALID_ARGUMENT: bad key or query',
  401: 'UNAUTHORIZED: token required and missing or wrong',
  429: 'RATE_LIMITED (with Retry-After)',
  503: 'UNAVAILABLE: no quorum or shutting down (with Retry-After)',
  504: 'TIMEOUT: the commit did not finish in time; the outcome is unknown',
}

export function kvRoutes(node: TroupeNode): Route[] {
  return [
    {
      method: 'PUT',
      pattern: '/v1/kv/{key}',
      auth: true,
      doc: {
        summary: 'Write a value (raw body, at most 1 MiB)',
        requestBody: 'raw',
        query: kvPutQuerySchema,
        responses: { 200: '{"version":n}', 409: 'CONFLICT: ifVersion does not match', 413: 'PAYLOAD_TOO_LARGE: the value exceeds 1 MiB', ...common },
      },
      async handler(ctx) {
        const key = keyOf(ctx)
        const options = validatePutQuery(queryObject(ctx.query))
        const value = await ctx.readRaw(KV_VALUE_BYTES_MAX)
        return jsonReply(200, { version: await node.kv.put(key, value, options) })
      },
    },
    {
      method: 'GET',
      pattern: '/v1/kv/{key}',
      auth: true,
      doc: {
        summary: 'Read a value: the raw body, its version in X-Version',
        query: kvGetQuerySchema,
        responses: { 200: 'the value (application/octet-stream), header X-Version', 404: 'KEY_NOT_FOUND', ...common },
      },
      async handler(ctx) {
        const key = keyOf(ctx)
        const { consistency } = validateGetQuery(queryObject(ctx.query))
        const entry = await node.kv.get(key, consistency !== undefined ? { consistency } : {})
        if (entry === undefined) throw new HttpError('KEY_NOT_FOUND', 'key not found')
        return { status: 200, body: entry.value, contentType: 'application/octet-stream', headers: { 'x-version': entry.version } }
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/kv/{key}',
      auth: true,
      doc: {
        summary: 'Delete a key',
        query: kvDeleteQuerySchema,
        responses: { 204: 'deleted', 404: 'KEY_NOT_FOUND', 409: 'CONFLICT: ifVersion does not match', ...common },
      },
      async handler(ctx) {
        const key = keyOf(ctx)
        const options = validateDeleteQuery(queryObject(ctx.query))
        await node.kv.delete(key, options)
        return NO_CONTENT
      },
    },
  ]
}
