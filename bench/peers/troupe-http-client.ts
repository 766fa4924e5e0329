// The Troupe rows over the HTTP API (CONTRACT §4): keep-alive connections,
// callers spread over the nodes (a follower forwards to the shard's leader,
// as any client that does not track leaders would see).
import http from 'node:http'
import type { TroupeBenchClient } from './troupe-client.js'

interface Answer {
  status: number
  body: string
}

const REQUEST_TIMEOUT_MS = 30_000

export function createTroupeHttpClient(addresses: string[], options: { clients: number; sizeBytes: number }): TroupeBenchClient {
  if (addresses.length === 0) throw new RangeError('createTroupeHttpClient: no node address')
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients, keepAliveMsecs: 10_000 })
  const targets = addresses.map((address) => {
    const at = address.lastIndexOf(':')
    return { host: address.slice(0, at), port: Number(address.slice(at + 1)) }
  })
  const payload = 'x'.repeat(options.sizeBytes)
  const value = Buffer.alloc(options.sizeBytes, 'v')
  const oneMessage = JSON.stringify({ body: payload })
  const batches = new Map<number, string>()

  function request(client: number, method: string, path: string, body?: string | Buffer): Promise<Answer> {
    const target = targets[client % targets.length]!
    const headers: Record<string, string | number> = {}
    if (body !== undefined) {
      headers['content-length'] = Buffer.byteLength(body)
      headers['content-type'] = typeof body === 'string' ? 'application/json' : 'application/octet-stream'
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ agent, ...target, method, path, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  function expect(answer: Answer, statuses: number[], what: string): void {
    if (!statuses.includes(answer.status)) throw new Error(`${what} answered ${answer.status}: ${answer.body.slice(0, 200)}`)
  }

  return {
    transport: 'http',
    async createQueue(queue) {
      expect(await request(0, 'PUT', `/v1/queues/${queue}`, '{}'), [200, 201], `PUT queue ${queue}`)
    },
    async send(client, queue) {
      expect(await request(client, 'POST', `/v1/queues/${queue}/messages`, oneMessage), [201], 'send')
    },
    async sendBatch(client, queue, count) {
      let body = batches.get(count)
      if (body === undefined) {
        body = JSON.stringify({ messages: Array.from({ length: count }, () => ({ body: payload })) })
        batches.set(count, body)
      }
      expect(await request(client, 'POST', `/v1/queues/${queue}/messages`, body), [201], 'send batch')
    },
    async receiveAndAck(client, queue, max) {
      const answer = await request(client, 'POST', `/v1/queues/${queue}/receive`, JSON.stringify({ max }))
      expect(answer, [200], 'receive')
      const { messages } = JSON.parse(answer.body) as { messages: { receipt: string }[] }
      if (messages.length === 0) return 0
      const receipts = messages.map((m) => m.receipt)
      expect(await request(client, 'POST', `/v1/queues/${queue}/ack`, JSON.stringify({ receipts })), [204], 'ack')
      return messages.length
    },
    async kvPut(client, key) {
      expect(await request(client, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, value), [200], 'kv put')
    },
    async kvGet(client, key) {
      expect(await request(client, 'GET', `/v1/kv/${encodeURIComponent(key)}`), [200], 'kv get')
    },
    async close() {
      agent.destroy()
    },
  }
}
