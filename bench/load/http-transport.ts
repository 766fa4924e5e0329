// The HTTP transport: node:http with keep-alive agents (one per node,
// maxSockets = concurrency), one request per worker at a time. Worker w
// talks to node w mod N; followers forward to the shard's leader. When a
// node stops answering at the connection level, the worker moves to the
// next node, and tries its own node again after `returnAfterMs`, as a
// client with a list of addresses would.
import http from 'node:http'
import { LoadError } from './load-error.js'
import type { LoadClient, ReceivedMessage, ReceiveOptions, Transport } from './transport.js'

export interface HttpTransportOptions {
  /** `host:port` of each node's HTTP API. */
  addresses: string[]
  /** Sockets per node: the number of concurrent workers. */
  maxSockets: number
  token?: string
  requestTimeoutMs?: number
  /** How long a worker stays on another node after its own failed. */
  returnAfterMs?: number
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
const DEFAULT_RETURN_AFTER_MS = 3_000
/** Answers larger than this are cut: no answer of the scenarios comes near it. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024

interface Endpoint {
  host: string
  port: number
  agent: http.Agent
}

interface Answer {
  status: number
  body: Buffer
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH'])

function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':')
  const port = Number(address.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new LoadError('INVALID_OPTION', `not a host:port address: '${address}'`)
  return { host: address.slice(0, at), port }
}

function statusError(method: string, path: string, answer: Answer): LoadError {
  let code = ''
  try {
    const parsed = JSON.parse(answer.body.toString('utf8')) as { error?: { code?: unknown } }
    if (typeof parsed.error?.code === 'string') code = parsed.error.code
  } catch {
    // Not a JSON error body: the status alone names the failure.
  }
  const tally = code ? `HTTP_${answer.status}_${code}` : `HTTP_${answer.status}`
  return new LoadError('UNEXPECTED_STATUS', `${method} ${path} answered ${answer.status}${code ? ` ${code}` : ''}`, tally)
}

class HttpLoadClient implements LoadClient {
  private current: number
  private returnAtMs = 0

  constructor(
    private readonly transport: HttpTransport,
    private readonly preferred: number,
  ) {
    this.current = preferred
  }

  async createQueue(queue: string): Promise<void> {
    await this.expect('PUT', `/v1/queues/${queue}`, [200, 201], '{}')
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.expect('DELETE', `/v1/queues/${queue}`, [204, 404])
  }

  async send(queue: string, body: unknown, dedupId?: string): Promise<void> {
    await this.expect('POST', `/v1/queues/${queue}/messages`, [201], JSON.stringify(dedupId === undefined ? { body } : { body, dedupId }))
  }

  async sendBatch(queue: string, bodies: unknown[], dedupIds?: string[]): Promise<void> {
    const messages = bodies.map((body, i) => (dedupIds === undefined ? { body } : { body, dedupId: dedupIds[i] }))
    await this.expect('POST', `/v1/queues/${queue}/messages`, [201], JSON.stringify({ messages }))
  }

  async receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    const answer = await this.expect('POST', `/v1/queues/${queue}/receive`, [200], JSON.stringify(options))
    return (JSON.parse(answer.body.toString('utf8')) as { messages: ReceivedMessage[] }).messages
  }

  async ack(queue: string, receipts: string[]): Promise<void> {
    const body = receipts.length === 1 ? { receipt: receipts[0] } : { receipts }
    await this.expect('POST', `/v1/queues/${queue}/ack`, [204], JSON.stringify(body))
  }

  async kvPut(key: string, value: Buffer): Promise<void> {
    await this.expect('PUT', `/v1/kv/${encodeURIComponent(key)}`, [200], value)
  }

  async kvGet(key: string): Promise<Buffer | null> {
    const answer = await this.expect('GET', `/v1/kv/${encodeURIComponent(key)}`, [200, 404])
    return answer.status === 200 ? answer.body : null
  }

  private async expect(method: string, path: string, statuses: number[], body?: string | Buffer): Promise<Answer> {
    const endpoints = this.transport.endpoints
    if (this.current !== this.preferred && performance.now() >= this.returnAtMs) this.current = this.preferred
    const endpoint = endpoints[this.current]!
    let answer: Answer
    try {
      answer = await this.transport.request(endpoint, method, path, body)
    } catch (error) {
      if (error instanceof LoadError && error.code === 'CONNECTION_FAILED' && endpoints.length > 1) {
        this.current = (this.current + 1) % endpoints.length
        this.returnAtMs = performance.now() + this.transport.returnAfterMs
      }
      throw error
    }
    if (!statuses.includes(answer.status)) throw statusError(method, path, answer)
    return answer
  }
}

export class HttpTransport implements Transport {
  readonly name = 'http' as const
  readonly endpoints: Endpoint[]
  readonly returnAfterMs: number
  private readonly requestTimeoutMs: number
  private readonly authorization: string | undefined

  constructor(options: HttpTransportOptions) {
    if (options.addresses.length === 0) throw new LoadError('INVALID_OPTION', 'the HTTP transport needs at least one address')
    this.endpoints = options.addresses.map((address) => ({
      ...splitHostPort(address),
      agent: new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, keepAliveMsecs: 10_000 }),
    }))
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.returnAfterMs = options.returnAfterMs ?? DEFAULT_RETURN_AFTER_MS
    this.authorization = options.token ? `Bearer ${options.token}` : undefined
  }

  client(worker: number): LoadClient {
    return new HttpLoadClient(this, worker % this.endpoints.length)
  }

  request(endpoint: Endpoint, method: string, path: string, body?: string | Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {}
      if (this.authorization) headers['authorization'] = this.authorization
      if (body !== undefined) {
        headers['content-length'] = Buffer.byteLength(body)
        headers['content-type'] = typeof body === 'string' ? 'application/json' : 'application/octet-stream'
      }
      const fail = (error: Error & { code?: string }) => {
        if (error instanceof LoadError) return reject(error)
        const code = error.code ?? ''
        if (CONNECTION_ERRORS.has(code) || error.message === 'socket hang up') {
          reject(new LoadError('CONNECTION_FAILED', `${method} ${path} to ${endpoint.host}:${endpoint.port}: ${error.message}`, code || 'ECONNRESET'))
        } else reject(error)
      }
      const req = http.request({ agent: endpoint.agent, host: endpoint.host, port: endpoint.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = []
        let sizeBytes = 0
        res.on('data', (chunk: Buffer) => {
          sizeBytes += chunk.length
          if (sizeBytes > MAX_ANSWER_BYTES) req.destroy(new LoadError('UNEXPECTED_STATUS', `${method} ${path}: answer over ${MAX_ANSWER_BYTES} bytes`, 'ANSWER_TOO_LARGE'))
          else chunks.push(chunk)
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
        res.on('error', fail)
      })
      req.setTimeout(this.requestTimeoutMs, () => {
        req.destroy(new LoadError('REQUEST_TIMEOUT', `${method} ${path}: no answer within ${this.requestTimeoutMs} ms`))
      })
      req.on('error', fail)
      req.end(body)
    })
  }

  async close(): Promise<void> {
    for (const endpoint of this.endpoints) endpoint.agent.destroy()
  }
}
