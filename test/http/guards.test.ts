// What guards the API: the bearer token, request size limits, rate limits,
// the long-poll cap, malformed HTTP, and a graceful close that releases
// long-polls. Several servers share one real node.
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import { startHttpServer } from '../../src/http/index.js'
import { call, errorOf, eventually, metricValue, rawExchange, startTestNode, startTestServer } from './helpers.js'

const { node, close: closeNode } = await startTestNode()
t.teardown(closeNode)
await node.queues.put('guarded')

t.test('with a token, /v1 and /metrics need it; /health, /ready and /openapi.json stay open', async (t) => {
  const { server, base } = await startTestServer(node, { token: 's3cret-token' })
  t.teardown(() => server.close())
  const good = { authorization: 'Bearer s3cret-token' }
  for (const [method, path] of [
    ['GET', '/v1/queues'],
    ['GET', '/v1/cluster'],
    ['GET', '/metrics'],
    ['POST', '/v1/queues/guarded/messages'],
    ['GET', '/v1/kv/k'],
  ] as const) {
    const none = await call(base, method, path, method === 'POST' ? { body: 1 } : undefined)
    t.equal(none.status, 401, `${method} ${path} without a token`)
    t.equal(errorOf(none).code, 'UNAUTHORIZED')
    t.equal(none.headers.get('www-authenticate'), 'Bearer')
    for (const authorization of ['Bearer wrong', 'Bearer s3cret-token2', 'Bearer s3cret-toke', 'Basic s3cret-token', 's3cret-token', 'Bearer ']) {
      const wrong = await call(base, method, path, method === 'POST' ? { body: 1 } : undefined, { authorization })
      t.equal(wrong.status, 401, `${method} ${path} with '${authorization}'`)
    }
  }
  t.equal((await call(base, 'GET', '/v1/queues', undefined, good)).status, 200)
  t.equal((await call(base, 'GET', '/metrics', undefined, good)).status, 200)
  t.equal((await call(base, 'GET', '/health')).status, 200)
  t.equal((await call(base, 'GET', '/ready')).status, 200)
  t.equal((await call(base, 'GET', '/openapi.json')).status, 200)
  t.match((await node.queues.get('guarded')).stats, { sentTotal: 0 }, 'refused sends added nothing')
})

t.test('a declared Content-Length over the limit is refused with 413 before the body is read', async (t) => {
  const { server } = await startTestServer(node)
  t.teardown(() => server.close())
  const head = `POST /v1/queues/guarded/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${10 * 1024 * 1024 + 1}\r\n\r\n`
  const answer = await rawExchange(server.address.port, head)
  t.match(answer, /^HTTP\/1\.1 413 /)
  t.match(answer, /"code":"PAYLOAD_TOO_LARGE"/)
  t.match(answer, /connection: close/i)
})

t.test('a chunked body is counted while it streams and refused with 413 past the limit', async (t) => {
  const { server } = await startTestServer(node, { bodyLimitBytes: 64 * 1024 })
  t.teardown(() => server.close())
  const head = 'POST /v1/queues/guarded/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n'
  const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`)
  const answer = await rawExchange(server.address.port, head, { thenWrite: Buffer.concat([chunk, chunk]) })
  t.match(answer, /^HTTP\/1\.1 413 /)
  t.match(answer, /"code":"PAYLOAD_TOO_LARGE"/)
  t.match((await node.queues.get('guarded')).stats, { sentTotal: 0 })
})

t.test('a body the busy node has no room for is refused 503 with Retry-After before it is read; with room it is taken', async (t) => {
  const { server, base } = await startTestServer(node)
  t.teardown(() => server.close())
  await node.queues.put('busy')
  const limit = node.writes.maxBytes
  // Other writes in flight hold all but 64 KiB of the node's budget.
  node.writes.take(limit - 64 * 1024)
  t.teardown(() => node.writes.give(limit - 64 * 1024))
  const body = JSON.stringify({ body: 'x'.repeat(70_000) })
  const head = `POST /v1/queues/busy/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`
  const next = 'GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'
  const answer = await rawExchange(server.address.port, head + body + next)
  t.match(answer, /^HTTP\/1\.1 503 /)
  t.match(answer, /retry-after: 1/i)
  t.match(answer, /"code":"UNAVAILABLE","message":"the node is busy: /)
  t.match(answer, /\r\n\r\n\{"error".*HTTP\/1\.1 200 /s, 'the unread body was dropped and the connection answered the next request')
  t.equal((await call(base, 'POST', '/v1/queues/busy/messages', { body: 'small' })).status, 201, 'a body that fits is taken')
  t.match((await node.queues.get('busy')).stats, { sentTotal: 1 }, 'the refused one added nothing')
  node.writes.take(64 * 1024)
  t.teardown(() => node.writes.give(64 * 1024))
  const [receipt] = ((await call(base, 'POST', '/v1/queues/busy/receive', { max: 1 })).json as { messages: { receipt: string }[] }).messages.map((m) => m.receipt)
  t.equal((await call(base, 'POST', '/v1/queues/busy/ack', { receipt })).status, 204, 'with no room left, receives and acks still pass')
  t.equal((await call(base, 'POST', '/v1/queues/busy/messages', { body: 'small' })).status, 503, 'a write does not')
})

t.test('malformed HTTP is answered 400 and the connection closed', async (t) => {
  const { server } = await startTestServer(node)
  t.teardown(() => server.close())
  const answer = await rawExchange(server.address.port, 'THIS IS NOT HTTP\r\n\r\n')
  t.match(answer, /^HTTP\/1\.1 400 /)
  t.match(answer, /"code":"INVALID_ARGUMENT"/)
})

t.test('per-client rate limit answers 429 RATE_LIMITED with Retry-After once the burst is spent', async (t) => {
  const { server, base } = await startTestServer(node, { rateLimit: { perClient: { ratePerSec: 0.5, burst: 3 } } })
  t.teardown(() => server.close())
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await call(base, 'GET', '/v1/queues')).status)
  t.same(statuses, [200, 200, 200])
  const limited = await call(base, 'POST', '/v1/queues/guarded/messages', { body: 'over the limit' })
  t.equal(limited.status, 429)
  t.equal(errorOf(limited).code, 'RATE_LIMITED')
  t.ok(Number(limited.headers.get('retry-after')) >= 1)
  t.equal((await call(base, 'GET', '/health')).status, 200, 'health is never rate limited')
  t.match((await node.queues.get('guarded')).stats, { sentTotal: 0 }, 'a limited send adds nothing')
})

t.test('per-queue rate limit counts each queue apart', async (t) => {
  await node.queues.put('limited-a')
  await node.queues.put('limited-b')
  const { server, base } = await startTestServer(node, { rateLimit: { perQueue: { ratePerSec: 0.5, burst: 2 } } })
  t.teardown(() => server.close())
  t.equal((await call(base, 'POST', '/v1/queues/limited-a/messages', { body: 1 })).status, 201)
  t.equal((await call(base, 'POST', '/v1/queues/limited-a/messages', { body: 2 })).status, 201)
  const limited = await call(base, 'POST', '/v1/queues/limited-a/messages', { body: 3 })
  t.equal(limited.status, 429)
  t.ok(Number(limited.headers.get('retry-after')) >= 1)
  t.equal((await call(base, 'POST', '/v1/queues/limited-b/messages', { body: 1 })).status, 201, 'another queue has its own bucket')
  t.equal((await call(base, 'GET', '/v1/kv/any')).status, 404, 'KV routes are not counted per queue')
  t.equal((await node.queues.get('limited-a')).stats.sentTotal, 2)
})

t.test('long-polls beyond longPollMax answer 429; short polls still pass', async (t) => {
  await node.queues.put('capped')
  const { server, base } = await startTestServer(node, { longPollMax: 1 })
  t.teardown(() => server.close())
  const held = call(base, 'POST', '/v1/queues/capped/receive', { waitMs: 15_000 })
  await eventually(async () => (metricValue((await call(base, 'GET', '/metrics')).text, 'troupe_http_long_polls') === 1 ? true : undefined), 'the long-poll to be held')
  const refused = await call(base, 'POST', '/v1/queues/capped/receive', { waitMs: 1000 })
  t.equal(refused.status, 429)
  t.equal(errorOf(refused).code, 'RATE_LIMITED')
  t.ok(refused.headers.has('retry-after'))
  t.equal((await call(base, 'POST', '/v1/queues/capped/receive', { waitMs: 0 })).status, 200)
  await node.queues.send('capped', 'release')
  const answer = await held
  t.equal(answer.status, 200)
  t.same((answer.json as { messages: { body: unknown }[] }).messages.map((m) => m.body), ['release'])
})

t.test('close() releases a held long-poll with 503 UNAVAILABLE and stops accepting', async (t) => {
  await node.queues.put('closing')
  const { server, base } = await startTestServer(node)
  const held = call(base, 'POST', '/v1/queues/closing/receive', { waitMs: 20_000 })
  await eventually(async () => (metricValue((await call(base, 'GET', '/metrics')).text, 'troupe_http_long_polls') === 1 ? true : undefined), 'the long-poll to be held')
  const closed = server.close()
  const answer = await held
  t.equal(answer.status, 503)
  t.equal(errorOf(answer).code, 'UNAVAILABLE')
  t.ok(Number(answer.headers.get('retry-after')) >= 1)
  await closed
  await t.rejects(fetch(`${base}/health`), 'no longer accepting')
  // Nothing was left invisible by the released receive.
  await node.queues.send('closing', 'after close')
  const messages = await node.queues.receive('closing', { waitMs: 5_000 })
  t.same(messages.map((m) => m.body), ['after close'])
})

t.test('stopAccepting() refuses new connections while a request in flight is still served', async (t) => {
  await node.queues.put('draining')
  const { server, base } = await startTestServer(node)
  t.teardown(() => server.close())
  const held = call(base, 'POST', '/v1/queues/draining/receive', { waitMs: 20_000 })
  await eventually(async () => (metricValue((await call(base, 'GET', '/metrics')).text, 'troupe_http_long_polls') === 1 ? true : undefined), 'the long-poll to be held')
  server.stopAccepting()
  await t.rejects(fetch(`${base}/health`), 'no longer accepting')
  await node.queues.send('draining', 'while draining')
  const answer = await held
  t.equal(answer.status, 200, 'the held long-poll got its message')
  t.same((answer.json as { messages: { body: unknown }[] }).messages.map((m) => m.body), ['while draining'])
  t.equal(answer.headers.get('connection'), 'close', 'the answer closes its connection: the client goes elsewhere for the next request')
})

t.test('at debug level every request leaves one structured access log line', async (t) => {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  const { server, base } = await startTestServer(node, { logger: pino({ level: 'debug' }, sink) })
  t.teardown(() => server.close())
  await call(base, 'GET', '/v1/queues/guarded')
  await call(base, 'GET', '/v1/queues/not%20valid')
  const access = lines.filter((line) => line['msg'] === 'http request')
  t.match(access, [
    { level: 20, actor: 'http', method: 'GET', path: '/v1/queues/guarded', route: '/v1/queues/{name}', status: 200, remote: '127.0.0.1' },
    { method: 'GET', route: '/v1/queues/{name}', status: 400 },
  ])
  t.type(access[0]!['durationMs'], 'number')
})

t.test('options are checked before listening', async (t) => {
  await t.rejects(startHttpServer(node, { port: 70_000 }), RangeError)
  await t.rejects(startHttpServer(node, { port: 0, longPollMax: 0 }), RangeError)
  await t.rejects(startHttpServer(node, { port: 0, bodyLimitBytes: -1 }), RangeError)
  await t.rejects(startHttpServer(node, { port: 0, rateLimit: { perClient: { ratePerSec: 1, burst: 1 }, bucketsMax: 0 } }), RangeError)
})

t.test('a client that leaves in the middle of its body frees the request', async (t) => {
  const { server, base } = await startTestServer(node)
  t.teardown(() => server.close())
  const socket = connect(server.address.port, '127.0.0.1')
  socket.on('error', () => undefined)
  socket.write('POST /v1/queues/guarded/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"body":')
  const inFlight = async () => metricValue((await call(base, 'GET', '/metrics')).text, 'troupe_http_in_flight_requests')
  // The scrape itself is one request in flight.
  await eventually(async () => ((await inFlight()) === 2 ? true : undefined), 'the partial request to be in flight')
  socket.destroy()
  await eventually(async () => ((await inFlight()) === 1 ? true : undefined), 'the partial request to be freed')
  t.match((await node.queues.get('guarded')).stats, { sentTotal: 0 })
})

// Last: it closes the shared node.
t.test('once the node shuts down, requests answer 503 UNAVAILABLE with Retry-After and /ready answers 503', async (t) => {
  const { server, base } = await startTestServer(node)
  t.teardown(() => server.close())
  t.equal((await call(base, 'GET', '/ready')).status, 200)
  await closeNode()
  const send = await call(base, 'POST', '/v1/queues/guarded/messages', { body: 'too late' })
  t.equal(send.status, 503)
  t.equal(errorOf(send).code, 'UNAVAILABLE')
  t.ok(Number(send.headers.get('retry-after')) >= 1)
  const ready = await call(base, 'GET', '/ready')
  t.equal(ready.status, 503)
  t.equal(errorOf(ready).code, 'UNAVAILABLE')
  t.equal((await call(base, 'GET', '/health')).status, 200, 'the HTTP server itself is still alive')
})
