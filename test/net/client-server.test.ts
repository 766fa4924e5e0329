// The client protocol server against a real in-process node, through a raw
// client (test/net/client-wire.ts): the handshake, every op, pipelining, long
// polls, the limits and the shutdown of docs/PROTOCOL.md.
import t from 'tap'
import { startClientServer, type ClientServerHandle } from '../../src/net/client-server.js'
import type { ClientServerOptions } from '../../src/net/client-server-options.js'
import { eventually, removeDir, startTestNode, tempDir } from '../node/helpers.js'
import { ok, WireClient, type WireAnswer } from './client-wire.js'
import { waitFor, type TestScope } from './helpers.js'

const dir = await tempDir('troupe-client-server-')
const node = await startTestNode(dir, { sync: 'none' })
const main = await startClientServer(node, { host: '127.0.0.1', port: 0 })
t.teardown(async () => {
  await main.close()
  await node.close()
  await removeDir(dir)
})

/**
 * A server of its own for a test that changes limits or closes it; stopped by
 * that test. It announces the main server's address, so the node's directory
 * keeps naming that one.
 */
async function ownServer(t: TestScope, options: Partial<ClientServerOptions>): Promise<ClientServerHandle> {
  const server = await startClientServer(node, { host: '127.0.0.1', port: 0, advertise: main.advertised, ...options })
  t.teardown(() => server.close())
  return server
}

/** A client past its hello (closed by the test's teardown). */
async function connected(t: TestScope, port = main.address.port, hello: Record<string, unknown> = {}): Promise<WireClient> {
  const { client, welcome } = await WireClient.connect(port, hello)
  t.teardown(() => client.close())
  if ((welcome as { op?: unknown } | undefined)?.op !== 'welcome') throw new Error(`expected a welcome, got ${JSON.stringify(welcome)}`)
  return client
}

function errorOf(answer: WireAnswer): { code: string; message: string } & Record<string, unknown> {
  if (answer.ok || answer.error === undefined) throw new Error(`expected an error, got ${JSON.stringify(answer)}`)
  return answer.error as { code: string; message: string } & Record<string, unknown>
}

t.test('the welcome states the limits; ping answers', async (t) => {
  const { client, welcome } = await WireClient.connect(main.address.port)
  t.teardown(() => client.close())
  t.same(welcome, { op: 'welcome', v: 1, node: 1, shards: 4, maxFrameBytes: 10 * 1024 * 1024 + 64 * 1024, maxInFlight: 1024 })
  t.same(ok(await client.request('ping')), {})
})

t.test('auth: a missing or wrong token is refused with UNAUTHORIZED and a close; the right one works', async (t) => {
  const server = await ownServer(t, { token: 's3cret' })
  for (const hello of [{}, { token: 'wrong' }, { token: 's3cre' }, { token: 42 }]) {
    const { client, welcome } = await WireClient.connect(server.address.port, hello)
    t.match(welcome, { id: null, ok: false, error: { code: 'UNAUTHORIZED' } }, `refused: ${JSON.stringify(hello)}`)
    await client.closed
  }
  const client = await connected(t, server.address.port, { token: 's3cret' })
  t.same(ok(await client.request('ping')), {})
  t.equal(server.stats().handshakesFailed, 4)
})

t.test('a version the node does not speak, or a first frame that is not a hello, is refused and closed', async (t) => {
  const { client, welcome } = await WireClient.connect(main.address.port, { v: 2 })
  t.match(welcome, { id: null, error: { code: 'INVALID_ARGUMENT', message: /version 2 .*speaks 1/ } })
  await client.closed
  const early = await WireClient.open(main.address.port)
  early.write({ id: 1, op: 'ping' })
  t.match(await early.nextUnsolicited(), { id: null, error: { code: 'INVALID_ARGUMENT', message: /first frame must be a hello/ } })
  await early.closed
})

t.test('hostile values (maps with a toString key, objects where strings belong) get error answers, not a crash', async (t) => {
  const { client, welcome } = await WireClient.connect(main.address.port, { v: { toString: 1, valueOf: 2 } })
  t.match(welcome, { id: null, error: { code: 'INVALID_ARGUMENT', message: /version of type object/ } })
  await client.closed
  const c = await connected(t, main.address.port, { client: { toString: 1 } }).catch((error: unknown) => error)
  t.match(c, Error, 'a client name that is not a string is refused')
  const d = await connected(t)
  t.match(errorOf(await d.request('send', { queue: { toString: 1 }, body: 1 })), { code: 'INVALID_ARGUMENT' })
  t.match(errorOf(await d.request('kv.get', { key: { toString: 'x' } })), { code: 'INVALID_ARGUMENT' })
  t.match(errorOf(await d.request('ack', { queue: 'q', receipts: [{ toString: 1 }] })), { code: 'INVALID_ARGUMENT', message: /receipts\[0\]/ })
  t.match(errorOf(await d.request('queue.put', { queue: 'q', config: { toString: 1 } })), { code: 'INVALID_ARGUMENT', message: /toString/ })
  t.same(ok(await d.request('ping')), {})
})

t.test('requests pipelined right behind the hello are served', async (t) => {
  const client = await WireClient.open(main.address.port)
  t.teardown(() => client.close())
  client.write({ op: 'hello', v: 1 })
  const answer = await client.request('ping')
  t.same(ok(answer), {})
  t.match(client.unsolicited[0] ?? (await client.nextUnsolicited()), { op: 'welcome' })
})

t.test('queues: every op succeeds, and fails with the contract codes', async (t) => {
  const c = await connected(t)
  t.same(ok(await c.request('queue.put', { queue: 'jobs' })), { created: true, config: { visibilityTimeoutMs: 30000, maxReceives: 0, deadLetterQueue: null, maxMessages: 0, delayMs: 0, retentionMs: 345600000 } })
  t.match(ok(await c.request('queue.put', { queue: 'jobs', config: { visibilityTimeoutMs: 5000 } })), { created: false, config: { visibilityTimeoutMs: 5000 } })
  t.match(errorOf(await c.request('queue.put', { queue: 'bad name!' })), { code: 'INVALID_ARGUMENT', message: /queue must match/ })
  t.match(errorOf(await c.request('queue.put', { queue: 'jobs', config: { visibilityTimeoutMs: -1 } })), { code: 'INVALID_ARGUMENT', message: /visibilityTimeoutMs/ })
  t.match(errorOf(await c.request('queue.put', { queue: 'jobs', config: { colour: 'red' } })), { code: 'INVALID_ARGUMENT', message: /colour/ })
  t.match(errorOf(await c.request('queue.get', { queue: 'nope' })), { code: 'QUEUE_NOT_FOUND' })
  t.match(errorOf(await c.request('queue.get', {})), { code: 'INVALID_ARGUMENT', message: /queue is required/ })

  const body = { order: 7, tags: ['a', 'b'], blob: new Uint8Array([1, 2, 3]), nothing: null }
  const { id } = ok<{ id: string }>(await c.request('send', { queue: 'jobs', body, priority: 3, dedupId: 'd-1' }))
  t.equal(typeof id, 'string')
  t.same(ok(await c.request('send', { queue: 'jobs', body: 'again', dedupId: 'd-1' })), { id }, 'a repeated dedupId returns the first id')
  t.match(errorOf(await c.request('send', { queue: 'nope', body: 1 })), { code: 'QUEUE_NOT_FOUND' })
  t.match(errorOf(await c.request('send', { queue: 'jobs' })), { code: 'INVALID_ARGUMENT', message: /body is required/ })
  t.match(errorOf(await c.request('send', { queue: 'jobs', body: 1, priority: 10 })), { code: 'INVALID_ARGUMENT', message: /priority/ })
  t.match(errorOf(await c.request('send', { queue: 'jobs', body: 1, delayMs: 'soon' })), { code: 'INVALID_ARGUMENT', message: /delayMs/ })
  t.match(errorOf(await c.request('send', { queue: 'jobs', body: 1, colour: 'red' })), { code: 'INVALID_ARGUMENT', message: /unknown field 'colour'/ })

  const { ids } = ok<{ ids: string[] }>(await c.request('sendBatch', { queue: 'jobs', messages: [{ body: 'b1' }, { body: 'b2', priority: 0 }] }))
  t.equal(ids.length, 2)
  t.match(errorOf(await c.request('sendBatch', { queue: 'jobs', messages: [] })), { code: 'INVALID_ARGUMENT', message: /number of messages/ })
  t.match(errorOf(await c.request('sendBatch', { queue: 'jobs', messages: [{ body: 1 }, { body: 2, priority: 99 }] })), {
    code: 'INVALID_ARGUMENT',
    message: /messages\[1\]\.priority/,
  })
  t.match(errorOf(await c.request('sendBatch', { queue: 'jobs', messages: [{ priority: 1 }] })), { code: 'INVALID_ARGUMENT', message: /messages\[0\]\.body is required/ })

  t.match(ok(await c.request('queue.get', { queue: 'jobs' })), { name: 'jobs', stats: { visible: 3, inFlight: 0, total: 3 } })
  t.match(ok(await c.request('queue.list')), { queues: [{ name: 'jobs', stats: { total: 3 } }] })

  type Received = { messages: { id: string; receipt: string; body: unknown; receiveCount: number; sentAt: number; priority: number }[] }
  const first = ok<Received>(await c.request('receive', { queue: 'jobs', max: 1 }))
  t.equal(first.messages.length, 1)
  t.match(first.messages[0], { id, priority: 3, receiveCount: 1 }, 'the highest priority first')
  t.same(first.messages[0]!.body, { order: 7, tags: ['a', 'b'], blob: new Uint8Array([1, 2, 3]), nothing: null }, 'the body comes back as sent, binary included')
  t.match(errorOf(await c.request('receive', { queue: 'jobs', max: 101 })), { code: 'INVALID_ARGUMENT', message: /max/ })
  t.match(errorOf(await c.request('receive', { queue: 'jobs', waitMs: 20_001 })), { code: 'INVALID_ARGUMENT', message: /waitMs/ })
  t.match(errorOf(await c.request('receive', { queue: 'nope' })), { code: 'QUEUE_NOT_FOUND' })

  const rest = ok<Received>(await c.request('receive', { queue: 'jobs', max: 10, visibilityTimeoutMs: 60_000 }))
  t.equal(rest.messages.length, 2)
  t.same(ok(await c.request('ack', { queue: 'jobs', receipt: first.messages[0]!.receipt })), {})
  t.match(errorOf(await c.request('ack', { queue: 'jobs', receipt: first.messages[0]!.receipt })), { code: 'RECEIPT_NOT_FOUND' }, 'acked twice')
  t.match(errorOf(await c.request('ack', { queue: 'jobs' })), { code: 'INVALID_ARGUMENT', message: /exactly one of receipt and receipts/ })
  const [a, b] = rest.messages
  t.same(ok(await c.request('visibility', { queue: 'jobs', receipt: a!.receipt, timeoutMs: 120_000 })), {})
  t.match(errorOf(await c.request('visibility', { queue: 'jobs', receipt: 'x-1-1', timeoutMs: 1000 })), { code: /RECEIPT_NOT_FOUND|INVALID_ARGUMENT/ })
  t.match(errorOf(await c.request('visibility', { queue: 'jobs', receipt: a!.receipt })), { code: 'INVALID_ARGUMENT', message: /timeoutMs is required/ })
  t.same(ok(await c.request('nack', { queue: 'jobs', receipt: b!.receipt })), {})
  const again = ok<Received>(await c.request('receive', { queue: 'jobs', max: 10 }))
  t.same(
    again.messages.map((m) => [m.id, m.receiveCount]),
    [[b!.id, 2]],
    'the nacked message is visible again, its receive counted',
  )
  const batchAck = errorOf(await c.request('ack', { queue: 'jobs', receipts: [a!.receipt, b!.receipt, again.messages[0]!.receipt] }))
  t.match(batchAck, { code: 'RECEIPT_NOT_FOUND', missing: [b!.receipt] }, 'a batch ack names exactly the missing receipts')
  t.match(ok(await c.request('queue.get', { queue: 'jobs' })), { stats: { total: 0 } }, 'the others were acked')

  await c.request('send', { queue: 'jobs', body: 'to purge' })
  t.same(ok(await c.request('queue.purge', { queue: 'jobs' })), {})
  t.match(ok(await c.request('queue.get', { queue: 'jobs' })), { stats: { total: 0 } })
  t.same(ok(await c.request('queue.delete', { queue: 'jobs' })), {})
  t.match(errorOf(await c.request('queue.get', { queue: 'jobs' })), { code: 'QUEUE_NOT_FOUND' })
  t.match(errorOf(await c.request('queue.delete', { queue: 'jobs' })), { code: 'QUEUE_NOT_FOUND' })
})

t.test('kv: put, get (linearizable and stale), delete, with their failures', async (t) => {
  const c = await connected(t)
  const { version } = ok<{ version: number }>(await c.request('kv.put', { key: 'user/1', value: new Uint8Array([9, 8, 7]) }))
  t.ok(version > 0)
  t.same(ok(await c.request('kv.get', { key: 'user/1' })), { value: new Uint8Array([9, 8, 7]), version })
  t.same(ok(await c.request('kv.get', { key: 'user/1', consistency: 'stale' })), { value: new Uint8Array([9, 8, 7]), version })
  const text = ok<{ version: number }>(await c.request('kv.put', { key: 'user/1', value: 'text', ifVersion: version, ttlMs: 60_000 }))
  const entry = ok<{ value: Uint8Array; expiresAt: number }>(await c.request('kv.get', { key: 'user/1' }))
  t.equal(Buffer.from(entry.value).toString(), 'text', 'a str value is stored as its UTF-8 bytes')
  t.ok(entry.expiresAt > Date.now(), 'a TTL shows as expiresAt')
  t.match(errorOf(await c.request('kv.put', { key: 'user/1', value: 'x', ifVersion: version })), { code: 'CONFLICT' })
  t.match(errorOf(await c.request('kv.put', { key: 'user/1', value: 12 })), { code: 'INVALID_ARGUMENT', message: /value must be bin or str/ })
  t.match(errorOf(await c.request('kv.put', { key: '', value: 'x' })), { code: 'INVALID_ARGUMENT', message: /key/ })
  t.match(errorOf(await c.request('kv.put', { key: 'k'.repeat(1025), value: 'x' })), { code: 'INVALID_ARGUMENT', message: /1024 bytes/ })
  t.match(errorOf(await c.request('kv.put', { key: 'big', value: new Uint8Array(1024 * 1024 + 1) })), { code: 'PAYLOAD_TOO_LARGE' })
  t.match(errorOf(await c.request('kv.get', { key: 'user/1', consistency: 'eventual' })), { code: 'INVALID_ARGUMENT', message: /consistency/ })
  t.match(errorOf(await c.request('kv.delete', { key: 'user/1', ifVersion: version })), { code: 'CONFLICT' })
  t.same(ok(await c.request('kv.delete', { key: 'user/1', ifVersion: text.version })), {})
  t.equal(ok(await c.request('kv.get', { key: 'user/1' })), null, 'a missing key reads as nil')
  t.match(errorOf(await c.request('kv.delete', { key: 'user/1' })), { code: 'KEY_NOT_FOUND' })
})

t.test('cluster names this node with its announced tcp address, and every shard', async (t) => {
  const c = await connected(t)
  const map = ok<{ node: number; shardCount: number; nodes: Record<string, unknown>[]; shards: Record<string, unknown>[] }>(await c.request('cluster'))
  t.equal(map.node, 1)
  t.equal(map.shardCount, 4)
  t.match(map.nodes, [{ id: 1, state: 'self', tcp: main.advertised }])
  t.equal(main.advertised, `127.0.0.1:${main.address.port}`)
  t.equal(map.shards.length, 4)
  for (const shard of map.shards) t.match(shard, { id: Number, leader: 1, term: Number, commitIndex: Number, members: [1] })
})

t.test('cluster.remove refuses a missing or bad node id, a node that is not a member and the only voter', async (t) => {
  const c = await connected(t)
  t.match(errorOf(await c.request('cluster.remove')), { code: 'INVALID_ARGUMENT', message: /node is required/ })
  t.match(errorOf(await c.request('cluster.remove', { node: 'two' })), { code: 'INVALID_ARGUMENT' })
  t.match(errorOf(await c.request('cluster.remove', { node: 0 })), { code: 'INVALID_ARGUMENT' })
  t.match(errorOf(await c.request('cluster.remove', { node: 2 })), { code: 'INVALID_ARGUMENT', message: /node 2 is not a member/ })
  t.match(errorOf(await c.request('cluster.remove', { node: 1 })), { code: 'INVALID_ARGUMENT', message: /only voting member/ })
  t.match(ok<{ nodes: unknown[] }>(await c.request('cluster')).nodes, [{ id: 1 }], 'nothing changed')
})

t.test('unknown ops and fields get an error answer; the connection stays usable', async (t) => {
  const c = await connected(t)
  t.match(errorOf(await c.request('queue.explode')), { code: 'INVALID_ARGUMENT', message: /unknown op 'queue.explode'/ })
  t.match(errorOf(await c.request('ping', { extra: 1 })), { code: 'INVALID_ARGUMENT', message: /unknown field 'extra'/ })
  c.write({ id: 77, op: 5 })
  t.same(ok(await c.request('ping')), {})
  t.equal(c.isClosed, false)
})

t.test('500 requests pipelined on one connection are all answered, matched by id', async (t) => {
  const c = await connected(t)
  ok(await c.request('queue.put', { queue: 'pipelined' }))
  const requests = Array.from({ length: 500 }, (_, i) =>
    i % 5 === 4 ? { op: 'kv.put', args: { key: `p-${i}`, value: String(i) } } : { op: 'send', args: { queue: 'pipelined', body: { i } } },
  )
  const answers = await c.pipeline(requests)
  t.equal(answers.filter((a) => a.ok).length, 500, 'every request succeeded')
  const ids = answers.filter((_, i) => i % 5 !== 4).map((a) => (a.r as { id: string }).id)
  t.equal(new Set(ids).size, 400, 'each send got its own message id')
  t.match(ok(await c.request('queue.get', { queue: 'pipelined' })), { stats: { total: 400 } })
  t.equal(Buffer.from((ok(await c.request('kv.get', { key: 'p-499' })) as { value: Uint8Array }).value).toString(), '499')
})

t.test('a long poll is answered when a message is sent on another connection', async (t) => {
  const consumer = await connected(t)
  const producer = await connected(t)
  ok(await consumer.request('queue.put', { queue: 'waiting' }))
  const polled = consumer.request('receive', { queue: 'waiting', waitMs: 15_000 })
  // The poll is parked before the send goes out, so it is the poll that gets the message.
  await waitFor('the long poll is held', () => main.stats().longPolls === 1)
  t.same(ok(await consumer.request('ping')), {}, 'other requests on the connection go on meanwhile')
  const { id } = ok<{ id: string }>(await producer.request('send', { queue: 'waiting', body: 'wake up' }))
  const answer = ok<{ messages: { id: string; body: unknown }[] }>(await polled)
  t.same(answer.messages.map((m) => [m.id, m.body]), [[id, 'wake up']])
})

t.test('a long poll abandoned by its client is cancelled: it takes no message sent afterwards', async (t) => {
  const leaving = await connected(t)
  const staying = await connected(t)
  ok(await staying.request('queue.put', { queue: 'abandoned' }))
  void leaving.request('receive', { queue: 'abandoned', waitMs: 15_000 })
  await waitFor('the long poll is held', () => main.stats().longPolls === 1)
  leaving.close()
  await waitFor('the long poll is given up', () => main.stats().longPolls === 0)
  const { id } = ok<{ id: string }>(await staying.request('send', { queue: 'abandoned', body: 'for the one who stayed' }))
  const got = ok<{ messages: { id: string; receiveCount: number }[] }>(await staying.request('receive', { queue: 'abandoned', waitMs: 2_000 }))
  t.same(got.messages.map((m) => [m.id, m.receiveCount]), [[id, 1]], 'delivered once, to the client that asked')
})

t.test('a long poll on an empty queue ends empty when waitMs passes', async (t) => {
  const c = await connected(t)
  ok(await c.request('queue.put', { queue: 'empty' }))
  t.same(ok(await c.request('receive', { queue: 'empty', waitMs: 300, max: 5 })), { messages: [] })
})

t.test('long polls beyond the cap are RATE_LIMITED', async (t) => {
  const server = await ownServer(t, { longPollMax: 1 })
  const c = await connected(t, server.address.port)
  ok(await c.request('queue.put', { queue: 'capped' }))
  const held = c.request('receive', { queue: 'capped', waitMs: 400 })
  await waitFor('the first long poll is held', () => server.stats().longPolls === 1)
  t.match(errorOf(await c.request('receive', { queue: 'capped', waitMs: 400 })), { code: 'RATE_LIMITED', retryAfterMs: Number })
  t.same(ok(await c.request('receive', { queue: 'capped' })), { messages: [] }, 'a receive without wait is not a long poll')
  t.same(ok(await held), { messages: [] })
})

t.test('a frame over the limit gets a connection-level PAYLOAD_TOO_LARGE and a close; other connections go on', async (t) => {
  const server = await ownServer(t, { maxFrameBytes: 64 * 1024 })
  const other = await connected(t, server.address.port)
  const c = await connected(t, server.address.port)
  const header = Buffer.alloc(4)
  header.writeUInt32BE(1024 * 1024)
  c.writeRaw(header) // only the prefix: the server must refuse without waiting for the payload
  t.match(await c.nextUnsolicited(), { id: null, ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } })
  await c.closed
  t.same(ok(await other.request('ping')), {})
  t.equal(server.stats().framesTooLarge, 1)
})

t.test('a batch over 1000 and a body over 1 MiB get error answers; the connection stays usable', async (t) => {
  const c = await connected(t)
  ok(await c.request('queue.put', { queue: 'limits' }))
  const tooMany = Array.from({ length: 1001 }, (_, i) => ({ body: i }))
  t.match(errorOf(await c.request('sendBatch', { queue: 'limits', messages: tooMany })), { code: 'INVALID_ARGUMENT', message: /1000/ })
  t.match(errorOf(await c.request('send', { queue: 'limits', body: new Uint8Array(1024 * 1024 + 1) })), { code: 'PAYLOAD_TOO_LARGE' })
  t.match(errorOf(await c.request('sendBatch', { queue: 'limits', messages: [{ body: 1 }, { body: 'x'.repeat(1024 * 1024 + 1) }] })), {
    code: 'PAYLOAD_TOO_LARGE',
    message: /messages\[1\]/,
  })
  t.match(ok(await c.request('queue.get', { queue: 'limits' })), { stats: { total: 0 } }, 'nothing was partially applied')
  t.same(ok(await c.request('ping')), {})
})

t.test('a receive answer never exceeds the frame limit: messages that do not fit are released', async (t) => {
  const server = await ownServer(t, { maxFrameBytes: 2 * 1024 * 1024 + 64 * 1024 })
  const c = await connected(t, server.address.port)
  ok(await c.request('queue.put', { queue: 'large' }))
  const body = new Uint8Array(900 * 1024)
  for (let i = 0; i < 3; i++) ok(await c.request('send', { queue: 'large', body }))
  const got = ok<{ messages: unknown[] }>(await c.request('receive', { queue: 'large', max: 3 }))
  t.equal(got.messages.length, 2, 'two 900 KiB bodies fit in 2 MiB + 64 KiB, the third does not')
  const rest = ok<{ messages: { receiveCount: number }[] }>(await c.request('receive', { queue: 'large', max: 3 }))
  t.equal(rest.messages.length, 1, 'the third was released at once, not left invisible')
})

t.test('garbage closes the connection: a frame that is not a map, a request without id, bytes that are not msgpack', async (t) => {
  const cases: Array<[string, (c: WireClient) => void]> = [
    ['not a map', (c) => c.write([1, 2, 3])],
    ['no id', (c) => c.write({ op: 'ping' })],
    ['a negative id', (c) => c.write({ id: -1, op: 'ping' })],
    ['not msgpack', (c) => c.writeRaw(Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]))],
  ]
  for (const [what, misbehave] of cases) {
    const c = await connected(t)
    misbehave(c)
    t.match(await c.nextUnsolicited(), { id: null, ok: false, error: { code: 'INVALID_ARGUMENT' } }, what)
    await c.closed
  }
  const after = await connected(t)
  t.same(ok(await after.request('ping')), {}, 'the server still serves')
})

t.test('max connections: one more gets a connection-level UNAVAILABLE and a close', async (t) => {
  const server = await ownServer(t, { maxConnections: 2 })
  const first = await connected(t, server.address.port)
  await connected(t, server.address.port)
  const third = await WireClient.open(server.address.port)
  t.match(await third.nextUnsolicited(), { id: null, ok: false, error: { code: 'UNAVAILABLE', retryAfterMs: Number } })
  await third.closed
  first.close()
  await waitFor('the server saw the close', () => server.stats().connections === 1)
  const fourth = await connected(t, server.address.port)
  t.same(ok(await fourth.request('ping')), {})
  t.equal(server.stats().refused, 1)
})

t.test('the in-flight cap loses no request: 5000 pipelined with maxInFlightPerConnection 16', async (t) => {
  const server = await ownServer(t, { maxInFlightPerConnection: 16 })
  const c = await connected(t, server.address.port)
  ok(await c.request('queue.put', { queue: 'capped-flight' }))
  const answers = await c.pipeline(Array.from({ length: 5000 }, (_, i) => ({ op: 'send', args: { queue: 'capped-flight', body: i } })))
  t.equal(answers.filter((a) => a.ok).length, 5000)
  t.match(ok(await c.request('queue.get', { queue: 'capped-flight' })), { stats: { total: 5000 } })
  t.ok(server.stats().readPauses > 0, 'the server did stop reading at the cap')
  ok(await c.request('queue.purge', { queue: 'capped-flight' }))
})

t.test('a client that does not read its answers is not read either; nothing is lost once it reads again', async (t) => {
  const server = await ownServer(t, { outboundHighWaterBytes: 64 * 1024 })
  const c = await connected(t, server.address.port)
  ok(await c.request('kv.put', { key: 'large', value: new Uint8Array(100 * 1024) }))
  c.socket.pause()
  const answers = c.pipeline(Array.from({ length: 200 }, () => ({ op: 'kv.get', args: { key: 'large', consistency: 'stale' } })))
  await waitFor('the server stopped reading', () => server.stats().readPauses > 0, 10_000)
  c.socket.resume()
  const all = await answers
  t.equal(all.filter((a) => a.ok && (a.r as { value: Uint8Array }).value.length === 100 * 1024).length, 200, 'every answer arrived whole')
})

t.test('idle connections are closed; a long poll in flight is not idleness', async (t) => {
  const server = await ownServer(t, { idleTimeoutMs: 150 })
  const c = await connected(t, server.address.port)
  ok(await c.request('queue.put', { queue: 'idle' }))
  t.same(ok(await c.request('receive', { queue: 'idle', waitMs: 500 })), { messages: [] }, 'a poll longer than the idle timeout is answered')
  t.equal(c.isClosed, false)
  await c.closed
  t.equal(server.stats().idleTimeouts, 1)
})

t.test('a connection that sends no hello is closed after the handshake timeout', async (t) => {
  const server = await ownServer(t, { handshakeTimeoutMs: 100 })
  const c = await WireClient.open(server.address.port)
  await c.closed
  t.equal(server.stats().handshakesFailed, 1)
})

t.test('shutdown: in-flight requests are answered, long polls end early, then UNAVAILABLE and a close', async (t) => {
  const server = await startClientServer(node, { host: '127.0.0.1', port: 0, advertise: main.advertised })
  const c = await connected(t, server.address.port)
  ok(await c.request('queue.put', { queue: 'closing' }))
  ok(await c.request('queue.put', { queue: 'closing-poll' }))
  const poll = c.request('receive', { queue: 'closing-poll', waitMs: 15_000 })
  await waitFor('the long poll is held', () => server.stats().longPolls === 1)
  // Enough sends that some are still running when the close begins: the
  // node groups the single sends of one turn, so 200 could all be done
  // between two looks at the stats; 2000 take at least 20 commands.
  const sends = c.pipeline(Array.from({ length: 2000 }, (_, i) => ({ op: 'send', args: { queue: 'closing', body: i } })))
  await waitFor('the sends are in flight', () => server.stats().inFlight > 1)
  const closed = server.close()
  t.same(ok(await poll), { messages: [] }, 'the long poll answered at once with what it had')
  const answers = await sends
  t.ok(
    answers.every((a) => a.ok || a.error?.code === 'UNAVAILABLE'),
    'every request was answered: done, or UNAVAILABLE when it came after the shutdown began',
  )
  t.match(await c.nextUnsolicited(), { id: null, ok: false, error: { code: 'UNAVAILABLE' } })
  await c.closed
  await closed
  t.equal(server.stats().connections, 0)
  await t.rejects(WireClient.open(server.address.port), 'no longer accepting')
  const delivered = answers.filter((a) => a.ok).length
  const stats = await eventually(async () => (await node.queues.get('closing')).stats)
  t.equal(stats.total, delivered, 'exactly the sends answered ok were applied')
})
