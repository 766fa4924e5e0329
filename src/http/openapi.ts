// The OpenAPI 3.1 document of the API, built from the route table: the
// request schemas are the very objects the validators compile, so the
// document cannot drift from what the server accepts.
import { KV_KEY_BYTES_MAX } from '../machines/index.js'
import { queueNameSchema } from './request-schemas.js'
import type { Route } from './route.js'

export interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string; description: string }
  paths: Record<string, Record<string, unknown>>
  security: Record<string, string[]>[]
  components: Record<string, Record<string, unknown>>
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable code, e.g. QUEUE_NOT_FOUND' },
        message: { type: 'string' },
        field: { type: 'string', description: 'the request field a 400 is about' },
        missing: { type: 'array', items: { type: 'string' }, description: "batch ack's 404: exactly the receipts not found" },
        leader: { type: 'integer', description: 'the shard leader when this node does not lead it' },
      },
    },
  },
}

export function buildOpenApi(routes: readonly Route[], version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {}
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: `${route.method.toLowerCase()}${route.pattern.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.doc.summary,
      parameters: [...pathParameters(route.pattern), ...queryParameters(route)],
      responses: Object.fromEntries(
        Object.entries(route.doc.responses).map(([status, description]) => [
          status,
          Number(status) >= 400 ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } : { description },
        ]),
      ),
      ...(route.auth ? {} : { security: [] }),
    }
    if (route.doc.requestBody === 'raw') {
      operation['requestBody'] = { required: false, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }
    } else if (route.doc.requestBody !== undefined) {
      operation['requestBody'] = { required: false, content: { 'application/json': { schema: route.doc.requestBody } } }
    }
    ;(paths[route.pattern] ??= {})[route.method.toLowerCase()] = operation
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Troupe HTTP API',
      version,
      description: 'Raft-replicated queues and KV. Errors are {"error":{"code","message",...}}; 429 and 503 carry Retry-After.',
    },
    paths,
    security: [{ bearer: [] }],
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'required on /v1 and /metrics when the node has TROUPE_TOKEN' } },
    },
  }
}

function pathParameters(pattern: string): Record<string, unknown>[] {
  const parameters: Record<string, unknown>[] = []
  if (pattern.includes('{name}')) parameters.push({ name: 'name', in: 'path', required: true, schema: queueNameSchema })
  if (pattern.includes('{key}')) {
    parameters.push({ name: 'key', in: 'path', required: true, description: `URL-encoded, 1 to ${KV_KEY_BYTES_MAX} bytes`, schema: { type: 'string' } })
  }
  if (pattern.includes('{id}')) parameters.push({ name: 'id', in: 'path', required: true, description: 'a node id', schema: { type: 'integer', minimum: 1 } })
  return parameters
}

function queryParameters(route: Route): Record<string, unknown>[] {
  const properties = (route.doc.query?.['properties'] ?? {}) as Record<string, unknown>
  return Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
}
