// The HTTP side of the Troupe rows against a fake node: the requests it makes
// are the contract's (CONTRACT §4), and any other answer is an error.
import http from 'node:http'
import t from 'tap'
import { createTroupeHttpClient } from '../../bench/peers/troupe-http-client.js'

interface Seen {
  server: number
  method: string
  url: string
  body: string
}

async function fakeNodes(count: number, answer: (req: Seen) => { status: number; body?: string }) {
  const seen: Seen[] = []
  const servers = await Promise.all(
    Array.from({ length: count }, (_, server) => {
      const s = http.createServer((req, res) => {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const request = { server, method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') }
          seen.push(request)
          const { status, body } = answer(request)
          res.writeHead(status, { 'content-type': 'application/json' }).end(body ?? '')
        })
      })
      return new Promise<http.Server>((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)))
    }),
  )
  const addresses = servers.map((s) => `127.0.0.1:${(s.address() as { port: number }).port}`)
  const close = () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return { seen, addresses, close }
}

t.test('requests follow the HTTP API and callers are spread over the nodes', async (t) => {
  let receives = 0
  const nodes = await fakeNodes(2, (req) => {
    if (req.method === 'PUT' && req.url === '/v1/queues/q') return { status: 201, body: '{}' }
    if (req.url === '/v1/queues/q/messages') return { status: 201, body: '{"id":"1"}' }
    if (req.url === '/v1/queues/q/receive') {
      receives++
      return { status: 200, body: JSON.stringify({ messages: receives === 1 ? [{ receipt: 'r1' }, { receipt: 'r2' }] : [] }) }
    }
    if (req.url === '/v1/queues/q/ack') return { status: 204 }
    if (req.method === 'PUT' && req.url.startsWith('/v1/kv/')) return { status: 200, body: '{"version":1}' }
    return { status: 404, body: '{"error":{"code":"KEY_NOT_FOUND"}}' }
  })
  const client = createTroupeHttpClient(nodes.addresses, { clients: 4, sizeBytes: 16 })
  try {
    t.equal(client.transport, 'http')
    await client.createQueue('q')
    await client.send(0, 'q')
    await client.sendBatch(1, 'q', 3)
    t.equal(await client.receiveAndAck(0, 'q', 10), 2)
    t.equal(await client.receiveAndAck(1, 'q', 10), 0, 'an empty receive is 0 and acks nothing')
    await client.kvPut(1, 'a/b')
    await t.rejects(client.kvGet(0, 'missing'), /kv get answered 404/)

    const [create, send, batch, receive, ack, empty, put] = nodes.seen
    t.same(JSON.parse(create!.body), {})
    t.same(JSON.parse(send!.body), { body: 'x'.repeat(16) })
    t.equal(send!.server, 0)
    t.equal(batch!.server, 1, 'caller 1 goes to the second node')
    t.same(JSON.parse(batch!.body), { messages: Array.from({ length: 3 }, () => ({ body: 'x'.repeat(16) })) })
    t.same(JSON.parse(receive!.body), { max: 10 })
    t.same(JSON.parse(ack!.body), { receipts: ['r1', 'r2'] })
    t.equal(empty!.url, '/v1/queues/q/receive')
    t.equal(put!.url, '/v1/kv/a%2Fb')
    t.equal(put!.body.length, 16)
    t.equal(nodes.seen.length, 8)
  } finally {
    await client.close()
    await nodes.close()
  }
})

t.test('an unexpected status fails the call with the status and the error body', async (t) => {
  const nodes = await fakeNodes(1, () => ({ status: 503, body: '{"error":{"code":"UNAVAILABLE"}}' }))
  const client = createTroupeHttpClient(nodes.addresses, { clients: 1, sizeBytes: 8 })
  try {
    await t.rejects(client.send(0, 'q'), /send answered 503: .*UNAVAILABLE/)
  } finally {
    await client.close()
    await nodes.close()
  }
})
