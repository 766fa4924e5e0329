// Cancelling a long-poll receive, through the node API's AbortSignal and
// through HTTP when the client goes away: a wait that is abandoned leaves
// the shard at once and takes none of the messages sent afterwards.
import http from 'node:http'
import t from 'tap'
import { call, eventually, metricValue, startTestNode, startTestServer, undocumentedAnswers } from './helpers.js'

const { node, close: closeNode } = await startTestNode()
const { server, base } = await startTestServer(node)
t.teardown(async () => {
  await server.close()
  await closeNode()
})

// Bounds of the waits below: a receive that was not cancelled would outlive them.
const WAIT_MS = 20_000
const SETTLE_MS = 8_000

async function parkedReceives(): Promise<number> {
  return (await node.metrics()).shards.reduce((sum, shard) => sum + shard.parkedReceives, 0)
}

async function untilParked(count: number): Promise<void> {
  await eventually(async () => ((await parkedReceives()) === count ? true : undefined), `${count} parked receive(s)`, SETTLE_MS)
}

t.test('aborting a parked receive ends it empty, and a message sent afterwards stays visible', async (t) => {
  await node.queues.put('cancel-parked', { visibilityTimeoutMs: 600_000 })
  const controller = new AbortController()
  const receiving = node.queues.receive('cancel-parked', { waitMs: WAIT_MS, signal: controller.signal })
  await untilParked(1)
  controller.abort()
  await untilParked(0)
  await node.queues.send('cancel-parked', 'later')
  t.same(await receiving, [], 'the aborted receive got nothing')
  const { stats } = await node.queues.get('cancel-parked')
  t.match(stats, { visible: 1, inFlight: 0, receivedTotal: 0 })
})

t.test('a receive aborted before it parks does not park', async (t) => {
  await node.queues.put('cancel-early', { visibilityTimeoutMs: 600_000 })
  const controller = new AbortController()
  let settled = false
  const receiving = node.queues.receive('cancel-early', { waitMs: WAIT_MS, signal: controller.signal }).finally(() => (settled = true))
  // The cancel reaches the shard while the receive's first proposal is on its way.
  controller.abort()
  await eventually(async () => (settled ? true : undefined), 'the receive to end', SETTLE_MS)
  t.same(await receiving, [])
  t.equal(await parkedReceives(), 0)
  await node.queues.send('cancel-early', 'later')
  t.match((await node.queues.get('cancel-early')).stats, { visible: 1, receivedTotal: 0 })
})

t.test('an already aborted signal receives nothing; a signal on a receive that does not wait changes nothing', async (t) => {
  await node.queues.put('cancel-noop', {})
  await node.queues.send('cancel-noop', 'one')
  t.same(await node.queues.receive('cancel-noop', { waitMs: 1_000, signal: AbortSignal.abort() }), [])
  t.match((await node.queues.get('cancel-noop')).stats, { visible: 1, receivedTotal: 0 })
  const got = await node.queues.receive('cancel-noop', { signal: new AbortController().signal })
  t.same(
    got.map((m) => m.body),
    ['one'],
  )
})

t.test('an HTTP client that leaves a long-poll: the wait leaves the shard and takes nothing sent afterwards', async (t) => {
  await call(base, 'PUT', '/v1/queues/abandoned', { visibilityTimeoutMs: 600_000 })
  const request = http.request(`${base}/v1/queues/abandoned/receive`, { method: 'POST', headers: { 'content-type': 'application/json' } })
  request.on('error', () => undefined)
  request.end(JSON.stringify({ waitMs: WAIT_MS }))
  const scrape = async () => (await call(base, 'GET', '/metrics')).text
  await eventually(async () => (metricValue(await scrape(), 'troupe_http_long_polls') === 1 ? true : undefined), 'the long-poll to be held', SETTLE_MS)
  await untilParked(1)
  request.destroy()
  await eventually(async () => (metricValue(await scrape(), 'troupe_http_long_polls') === 0 ? true : undefined), 'the long-poll to be released', SETTLE_MS)
  await untilParked(0)
  await call(base, 'POST', '/v1/queues/abandoned/messages', { body: 'for the next client' })
  const stats = ((await call(base, 'GET', '/v1/queues/abandoned')).json as { stats: Record<string, number> }).stats
  t.match(stats, { visible: 1, inFlight: 0, receivedTotal: 0 }, 'nobody received it')
  const next = await call(base, 'POST', '/v1/queues/abandoned/receive', { waitMs: 1_000 })
  t.same(
    (next.json as { messages: { body: unknown; receiveCount: number }[] }).messages.map((m) => [m.body, m.receiveCount]),
    [['for the next client', 1]],
    'the next client gets it on its first delivery',
  )
})

t.test('every answer given in this file is documented in the OpenAPI document', async (t) => {
  t.same(await undocumentedAnswers(base), [])
})
