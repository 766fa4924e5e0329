// Shared helpers of the HTTP tests: one real node per test file on a fresh
// data directory, servers on 127.0.0.1:0, and small request helpers.
import { connect } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode } from '../../src/index.js'
import type { TroupeNode } from '../../src/node/troupe-node.js'
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from '../../src/http/index.js'

export interface TestApi {
  node: TroupeNode
  server: HttpServerHandle
  base: string
  close(): Promise<void>
}

export async function startTestNode(): Promise<{ node: TroupeNode; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-http-'))
  const node = await startNode({ dataDir: dir, shards: 4, threads: 1, logger: pino({ level: 'silent' }) })
  return {
    node,
    close: async () => {
      await node.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export async function startTestServer(node: TroupeNode, options: Partial<HttpServerOptions> = {}): Promise<{ server: HttpServerHandle; base: string }> {
  const server = await startHttpServer(node, { host: '127.0.0.1', port: 0, logger: pino({ level: process.env['LOG_LEVEL'] ?? 'silent' }), ...options })
  return { server, base: `http://127.0.0.1:${server.address.port}` }
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string; missing?: string[] }
}

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) init.body = body
    else {
      init.body = JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
    }
  }
  const response = await fetch(base + path, init)
  const text = await response.text()
  let json: unknown
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

export function errorOf(answer: Answer): ErrorBody['error'] {
  const body = answer.json as ErrorBody | undefined
  if (body?.error === undefined) throw new Error(`expected an error body, got ${answer.status} ${answer.text.slice(0, 200)}`)
  return body.error
}

/** Sends raw bytes on a fresh connection and resolves with everything the server wrote until it closed (bounded). */
export function rawExchange(port: number, request: string | Buffer, options: { thenWrite?: Buffer; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(Buffer.concat(chunks).toString('latin1'))
    }, options.timeoutMs ?? 5_000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while we still write (an oversize body): what it answered is what counts.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') return
      clearTimeout(timer)
      reject(error)
    })
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('latin1'))
    })
    socket.write(request)
    if (options.thenWrite !== undefined) socket.write(options.thenWrite)
  })
}

/** A gauge or counter of the exposition text (first sample whose labels contain `labels`). */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    if (labels !== '' && !rest.includes(labels)) continue
    return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Every (route, method, status) this server answered, read from its own request counter. */
export async function answeredStatuses(base: string, headers: Record<string, string> = {}): Promise<{ route: string; method: string; status: string }[]> {
  const text = (await call(base, 'GET', '/metrics', undefined, headers)).text
  const seen: { route: string; method: string; status: string }[] = []
  for (const line of text.split('\n')) {
    const match = /^troupe_http_requests_total\{route="([^"]*)",method="([^"]*)",status="([^"]*)"\}/.exec(line)
    if (match) seen.push({ route: match[1]!, method: match[2]!, status: match[3]! })
  }
  return seen
}

/** Answers this server gave that its OpenAPI document does not list (route, method and status), as `METHOD route status`. */
export async function undocumentedAnswers(base: string, headers: Record<string, string> = {}): Promise<string[]> {
  const doc = (await call(base, 'GET', '/openapi.json')).json as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }
  const missing: string[] = []
  for (const { route, method, status } of await answeredStatuses(base, headers)) {
    if (route === 'unmatched') continue
    const operation = doc.paths[route]?.[method.toLowerCase()]
    if (operation?.responses[status] === undefined) missing.push(`${method} ${route} ${status}`)
  }
  return missing
}
