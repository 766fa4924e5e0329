// The queue routes of CONTRACT §4 through real HTTP against a real node:
// every route's success and failure answers, batch semantics, long-polls,
// and that refused input changes nothing. Abandoned long-polls:
// receive-cancel.test.ts; forwarding from a follower: cluster.test.ts.
import t from 'tap'
import { call, errorOf, eventually, metricValue, startTestNode, startTestServer, undocumentedAnswers } from './helpers.js'

const { node, close: closeNode } = await startTestNode()
const { server, base } = await startTestServer(node)
t.teardown(async () => {
  await server.close()
  await closeNode()
})

interface Received {
  id: string
  receipt: string
  body: unknown
  receiveCount: number
  sentAt: number
}

async function receive(queue: string, request: Record<string, unknown> = {}): Promise<Received[]> {
  const answer = await call(base, 'POST', `/v1/queues/${queue}/receive`, request)
  if (answer.status !== 200) throw new Error(`receive answered ${answer.status} ${answer.text}`)
  return (answer.json as { messages: Received[] }).messages
}

async function stats(queue: string): Promise<Record<string, number>> {
  return ((await call(base, 'GET', `/v1/queues/${queue}`)).json as { stats: Record<string, number> }).stats
}

t.test('PUT creates a queue (201), updates it (200), and GET shows config and stats', async (t) => {
  const created = await call(base, 'PUT', '/v1/queues/orders', { visibilityTimeoutMs: 5000 })
  t.equal(created.status, 201)
  t.equal((created.json as { config: { visibilityTimeoutMs: number } }).config.visibilityTimeoutMs, 5000)
  const updated = await call(base, 'PUT', '/v1/queues/orders', { maxReceives: 3 })
  t.equal(updated.status, 200)
  const info = await call(base, 'GET', '/v1/queues/orders')
  t.equal(info.status, 200)
  t.match(info.json, { name: 'orders', config: { visibilityTimeoutMs: 5000, maxReceives: 3 }, stats: { visible: 0, inFlight: 0, delayed: 0, total: 0 } })
  const empty = await call(base, 'PUT', '/v1/queues/orders-empty-body')
  t.equal(empty.status, 201, 'an empty body is the default config')
  const list = await call(base, 'GET', '/v1/queues')
  t.equal(list.status, 200)
  const names = (list.json as { queues: { name: string }[] }).queues.map((q) => q.name)
  t.ok(names.includes('orders') && names.includes('orders-empty-body'))
})

t.test('queue routes refuse bad names, bad JSON and out-of-range fields with 400 naming the field', async (t) => {
  const badName = await call(base, 'PUT', '/v1/queues/no%20spaces', {})
  t.equal(badName.status, 400)
  t.match(errorOf(badName), { code: 'INVALID_ARGUMENT', field: 'name' })
  const tooLong = await call(base, 'PUT', `/v1/queues/${'a'.repeat(129)}`, {})
  t.equal(errorOf(tooLong).code, 'INVALID_ARGUMENT')
  const badJson = await call(base, 'PUT', '/v1/queues/orders', '{"visibilityTimeoutMs":')
  t.equal(badJson.status, 400)
  t.equal(errorOf(badJson).code, 'INVALID_ARGUMENT')
  const range = await call(base, 'PUT', '/v1/queues/orders', { visibilityTimeoutMs: 0 })
  t.match(errorOf(range), { code: 'INVALID_ARGUMENT', field: 'visibilityTimeoutMs' })
  const unknown = await call(base, 'PUT', '/v1/queues/orders', { visibility: 10 })
  t.match(errorOf(unknown), { code: 'INVALID_ARGUMENT', field: 'visibility' })
  const selfDlq = await call(base, 'PUT', '/v1/queues/orders', { deadLetterQueue: 'orders' })
  t.equal(errorOf(selfDlq).code, 'INVALID_ARGUMENT')
  const notObject = await call(base, 'POST', '/v1/queues/orders/receive', [1, 2])
  t.equal(errorOf(notObject).code, 'INVALID_ARGUMENT')
  const badMax = await call(base, 'POST', '/v1/queues/orders/receive', { max: 101 })
  t.match(errorOf(badMax), { field: 'max' })
  const badWait = await call(base, 'POST', '/v1/queues/orders/receive', { waitMs: 20_001 })
  t.match(errorOf(badWait), { field: 'waitMs' })
  const stringWait = await call(base, 'POST', '/v1/queues/orders/receive', { waitMs: '10' })
  t.match(errorOf(stringWait), { field: 'waitMs' }, 'bodies are not coerced')
  const noReceipt = await call(base, 'POST', '/v1/queues/orders/ack', {})
  t.match(errorOf(noReceipt), { field: 'receipt' })
  const noTimeout = await call(base, 'POST', '/v1/queues/orders/visibility', { receipt: 'r' })
  t.match(errorOf(noTimeout), { field: 'timeoutMs' })
  const badNackDelay = await call(base, 'POST', '/v1/queues/orders/nack', { receipt: 'r', delayMs: -1 })
  t.match(errorOf(badNackDelay), { field: 'delayMs' })
})

t.test('a missing queue answers 404 QUEUE_NOT_FOUND on every queue route', async (t) => {
  const routes: [string, string, unknown][] = [
    ['GET', '/v1/queues/ghost', undefined],
    ['DELETE', '/v1/queues/ghost', undefined],
    ['POST', '/v1/queues/ghost/purge', undefined],
    ['POST', '/v1/queues/ghost/messages', { body: 1 }],
    ['POST', '/v1/queues/ghost/receive', {}],
    ['POST', '/v1/queues/ghost/ack', { receipt: '1-1-0.1.1' }],
    ['POST', '/v1/queues/ghost/nack', { receipt: '1-1-0.1.1' }],
    ['POST', '/v1/queues/ghost/visibility', { receipt: '1-1-0.1.1', timeoutMs: 10 }],
  ]
  for (const [method, path, body] of routes) {
    const answer = await call(base, method, path, body)
    t.equal(answer.status, 404, `${method} ${path}`)
    t.equal(errorOf(answer).code, 'QUEUE_NOT_FOUND', `${method} ${path}`)
  }
})

t.test('send one and a batch, receive them with their fields, ack them', async (t) => {
  await call(base, 'PUT', '/v1/queues/flow', {})
  const one = await call(base, 'POST', '/v1/queues/flow/messages', { body: { order: 1, items: ['a'] } })
  t.equal(one.status, 201)
  const id = (one.json as { id: string }).id
  t.type(id, 'string')
  const batch = await call(base, 'POST', '/v1/queues/flow/messages', { messages: [{ body: 'two' }, { body: null }, { body: 3.5 }] })
  t.equal(batch.status, 201)
  const ids = (batch.json as { ids: string[] }).ids
  t.equal(ids.length, 3)
  const messages = await receive('flow', { max: 10 })
  t.same(
    messages.map((m) => m.body),
    [{ order: 1, items: ['a'] }, 'two', null, 3.5],
  )
  t.same(
    messages.map((m) => m.id),
    [id, ...ids],
  )
  for (const m of messages) {
    t.same(Object.keys(m).sort(), ['body', 'id', 'receipt', 'receiveCount', 'sentAt'])
    t.equal(m.receiveCount, 1)
    t.type(m.sentAt, 'number')
  }
  t.equal((await stats('flow'))['inFlight'], 4)
  const ackOne = await call(base, 'POST', '/v1/queues/flow/ack', { receipt: messages[0]!.receipt })
  t.equal(ackOne.status, 204)
  t.equal(ackOne.text, '')
  const ackMany = await call(base, 'POST', '/v1/queues/flow/ack', { receipts: messages.slice(1).map((m) => m.receipt) })
  t.equal(ackMany.status, 204)
  t.match(await stats('flow'), { total: 0, inFlight: 0, ackedTotal: 4 })
  const again = await call(base, 'POST', '/v1/queues/flow/ack', { receipt: messages[0]!.receipt })
  t.equal(again.status, 404)
  t.equal(errorOf(again).code, 'RECEIPT_NOT_FOUND')
})

t.test('batch ack answers 404 listing exactly the missing receipts and acks the others', async (t) => {
  await call(base, 'PUT', '/v1/queues/partial', {})
  await call(base, 'POST', '/v1/queues/partial/messages', { messages: [{ body: 1 }, { body: 2 }] })
  const [a, b] = await receive('partial', { max: 2 })
  const answer = await call(base, 'POST', '/v1/queues/partial/ack', { receipts: [a!.receipt, 'no-such-receipt', b!.receipt, 'other-missing'] })
  t.equal(answer.status, 404)
  t.match(errorOf(answer), { code: 'RECEIPT_NOT_FOUND', missing: ['no-such-receipt', 'other-missing'] })
  t.same(errorOf(answer).missing, ['no-such-receipt', 'other-missing'])
  t.match(await stats('partial'), { total: 0, ackedTotal: 2 })
})

t.test('priority, dedupId and delayMs through HTTP', async (t) => {
  await call(base, 'PUT', '/v1/queues/prio', {})
  await call(base, 'POST', '/v1/queues/prio/messages', { messages: [{ body: 'low' }, { body: 'high', priority: 9 }, { body: 'mid', priority: 5 }] })
  t.same(
    (await receive('prio', { max: 3 })).map((m) => m.body),
    ['high', 'mid', 'low'],
  )
  const first = await call(base, 'POST', '/v1/queues/prio/messages', { body: 'x', dedupId: 'once' })
  const repeat = await call(base, 'POST', '/v1/queues/prio/messages', { body: 'y', dedupId: 'once' })
  t.equal((repeat.json as { id: string }).id, (first.json as { id: string }).id, 'a repeated dedupId returns the first id')
  await call(base, 'POST', '/v1/queues/prio/messages', { body: 'later', delayMs: 60_000 })
  t.match(await stats('prio'), { visible: 1, delayed: 1 })
})

t.test('nack makes a message visible again; visibility extends a delivery; unknown receipts answer 404', async (t) => {
  await call(base, 'PUT', '/v1/queues/retry', { visibilityTimeoutMs: 60_000 })
  await call(base, 'POST', '/v1/queues/retry/messages', { body: 'job' })
  const [first] = await receive('retry')
  t.equal((await call(base, 'POST', '/v1/queues/retry/visibility', { receipt: first!.receipt, timeoutMs: 120_000 })).status, 204)
  t.equal((await receive('retry')).length, 0, 'still invisible after the extension')
  t.equal((await call(base, 'POST', '/v1/queues/retry/nack', { receipt: first!.receipt })).status, 204)
  const [second] = await receive('retry')
  t.equal(second?.id, first!.id)
  t.equal(second?.receiveCount, 2)
  const staleNack = await call(base, 'POST', '/v1/queues/retry/nack', { receipt: first!.receipt })
  t.equal(staleNack.status, 404)
  t.equal(errorOf(staleNack).code, 'RECEIPT_NOT_FOUND')
  const staleVisibility = await call(base, 'POST', '/v1/queues/retry/visibility', { receipt: first!.receipt, timeoutMs: 10 })
  t.equal(errorOf(staleVisibility).code, 'RECEIPT_NOT_FOUND')
})

t.test('maxMessages reached answers 503 QUEUE_FULL with Retry-After', async (t) => {
  await call(base, 'PUT', '/v1/queues/small', { maxMessages: 2 })
  t.equal((await call(base, 'POST', '/v1/queues/small/messages', { messages: [{ body: 1 }, { body: 2 }] })).status, 201)
  const full = await call(base, 'POST', '/v1/queues/small/messages', { body: 3 })
  t.equal(full.status, 503)
  t.equal(errorOf(full).code, 'QUEUE_FULL')
  t.ok(Number(full.headers.get('retry-after')) >= 1)
})

t.test('purge empties a queue and DELETE removes it', async (t) => {
  await call(base, 'PUT', '/v1/queues/gone', {})
  await call(base, 'POST', '/v1/queues/gone/messages', { messages: [{ body: 1 }, { body: 2 }] })
  t.equal((await call(base, 'POST', '/v1/queues/gone/purge')).status, 204)
  t.match(await stats('gone'), { total: 0 })
  t.equal((await call(base, 'DELETE', '/v1/queues/gone')).status, 204)
  t.equal((await call(base, 'GET', '/v1/queues/gone')).status, 404)
})

t.test('refused input changes nothing', async (t) => {
  await call(base, 'PUT', '/v1/queues/strict', { visibilityTimeoutMs: 1000 })
  const before = await call(base, 'GET', '/v1/queues/strict')
  const refused: [string, unknown][] = [
    ['/v1/queues/strict/messages', { messages: [{ body: 1 }, { body: 2, priority: 10 }] }],
    ['/v1/queues/strict/messages', { messages: [{ body: 1 }, { body: 'x'.repeat(1024 * 1024 + 10) }] }],
    ['/v1/queues/strict/messages', { messages: Array.from({ length: 1001 }, (_, i) => ({ body: i })) }],
    ['/v1/queues/strict/messages', { messages: [] }],
    ['/v1/queues/strict/messages', { body: 1, extra: true }],
    ['/v1/queues/strict/messages', { body: 1, messages: [{ body: 2 }] }],
    ['/v1/queues/strict/messages', {}],
    ['/v1/queues/strict/messages', '{"body": 1'],
  ]
  for (const [path, body] of refused) {
    const answer = await call(base, 'POST', path, body)
    t.ok(answer.status === 400 || answer.status === 413, `refused with ${answer.status} ${errorOf(answer).code}`)
  }
  const tooLarge = await call(base, 'POST', '/v1/queues/strict/messages', { body: 'x'.repeat(1024 * 1024 + 10) })
  t.equal(tooLarge.status, 413)
  t.equal(errorOf(tooLarge).code, 'PAYLOAD_TOO_LARGE')
  t.equal((await call(base, 'PUT', '/v1/queues/strict', { visibilityTimeoutMs: -5, maxReceives: 2 })).status, 400)
  t.equal((await call(base, 'PUT', '/v1/queues/strict', { maxReceives: 2, bogus: 1 })).status, 400)
  const after = await call(base, 'GET', '/v1/queues/strict')
  t.same(after.json, before.json, 'config and stats are unchanged')
})

t.test('a long-poll answers as soon as a message arrives', async (t) => {
  await call(base, 'PUT', '/v1/queues/waiting', {})
  const polling = receive('waiting', { waitMs: 15_000 })
  await eventually(async () => {
    const metrics = (await call(base, 'GET', '/metrics')).text
    return metricValue(metrics, 'troupe_http_long_polls') === 1 ? true : undefined
  }, 'the long-poll to be held')
  await call(base, 'POST', '/v1/queues/waiting/messages', { body: 'wake up' })
  const messages = await polling
  t.same(
    messages.map((m) => m.body),
    ['wake up'],
  )
})

t.test('a long-poll on an empty queue answers an empty list once waitMs has passed', async (t) => {
  await call(base, 'PUT', '/v1/queues/quiet', {})
  const startedMs = Date.now()
  const messages = await receive('quiet', { waitMs: 300 })
  t.same(messages, [])
  t.ok(Date.now() - startedMs >= 250, 'it waited rather than answering at once')
})

t.test('every answer given in this file is documented in the OpenAPI document', async (t) => {
  t.same(await undocumentedAnswers(base), [])
})
