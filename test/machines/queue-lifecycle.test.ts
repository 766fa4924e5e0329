import t from 'tap'
import { DEDUP_PRUNE_SLACK_MS, DEDUP_WINDOW_MS, QUEUE_CONFIG_DEFAULTS, TICK_TRANSITIONS_MAX } from '../../src/machines/index.js'
import { Harness, bytes, text } from './helpers/harness.js'

t.test('create applies defaults; a repeated create with matching fields succeeds, with different ones is a CONFLICT', async (t) => {
  const h = new Harness()
  t.same(h.ok({ type: 'queue.create', queue: 'q', config: { maxReceives: 3 } }), { created: true, config: { ...QUEUE_CONFIG_DEFAULTS, maxReceives: 3 } })
  t.same(h.ok({ type: 'queue.create', queue: 'q', config: { maxReceives: 3 } }).created, false)
  t.same(h.ok({ type: 'queue.create', queue: 'q' }).created, false, 'no fields: make sure it exists')
  const conflict = h.error({ type: 'queue.create', queue: 'q', config: { maxReceives: 4 } })
  t.equal(conflict.code, 'CONFLICT')
  t.equal(h.machine.queueConfig('q')!.maxReceives, 3)
})

t.test('create with update is an upsert', async (t) => {
  const h = new Harness()
  t.equal(h.ok({ type: 'queue.create', queue: 'q', config: { delayMs: 5 }, update: true }).created, true)
  const out = h.ok({ type: 'queue.create', queue: 'q', config: { maxMessages: 10 }, update: true })
  t.same(out, { created: false, config: { ...QUEUE_CONFIG_DEFAULTS, delayMs: 5, maxMessages: 10 } })
})

t.test('update changes only the given fields; null removes the dead-letter queue', async (t) => {
  const h = new Harness()
  h.createQueue('q', { deadLetterQueue: 'dlq', visibilityTimeoutMs: 5 })
  t.same(h.ok({ type: 'queue.update', queue: 'q', config: { deadLetterQueue: null } }).config, { ...QUEUE_CONFIG_DEFAULTS, visibilityTimeoutMs: 5 })
})

t.test('a queue cannot be its own dead-letter queue', async (t) => {
  const h = new Harness()
  t.equal(h.error({ type: 'queue.create', queue: 'q', config: { deadLetterQueue: 'q' } }).code, 'INVALID_ARGUMENT')
})

t.test('queue names and lists', async (t) => {
  const h = new Harness()
  h.createQueue('b')
  h.createQueue('a')
  t.same(h.machine.queueNames(), ['a', 'b'])
  t.equal(h.machine.queueStats('c'), undefined)
  t.equal(h.machine.queueConfig('c'), undefined)
})

t.test('purge removes every message in every state and keeps the queue', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.send('q', 'a', 'b')
  h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('later'), delayMs: 1000 }] })
  const [m] = h.receive('q', 1)
  t.same(h.ok({ type: 'queue.purge', queue: 'q' }), { removedMessages: 3 })
  t.match(h.machine.queueStats('q')!, { visible: 0, inFlight: 0, delayed: 0, total: 0, sentTotal: 3 })
  t.same(h.ok({ type: 'queue.ack', queue: 'q', receipts: [m!.receipt] }).missing, [m!.receipt])
  t.equal(h.machine.nextDueMs(), undefined, 'no timers remain')
  h.send('q', 'c')
  t.same(h.receive('q').map((x) => text(x.body)), ['c'])
})

t.test('delete removes the queue and its messages and tells long-poll waiters', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 10 })
  h.send('q', 'a', 'b')
  const [m] = h.receive('q', 1)
  t.same(h.ok({ type: 'queue.delete', queue: 'q' }), { removedMessages: 2 })
  t.same(h.effects, [{ type: 'queue-deleted', queue: 'q' }])
  t.same(h.machine.queueNames(), [])
  t.equal(h.machine.nextDueMs(), undefined)
  t.equal(h.error({ type: 'queue.ack', queue: 'q', receipts: [m!.receipt] }).code, 'QUEUE_NOT_FOUND')
  h.createQueue('q')
  t.match(h.machine.queueStats('q')!, { total: 0, sentTotal: 0 }, 're-created fresh')
  t.same(h.ok({ type: 'queue.ack', queue: 'q', receipts: [m!.receipt] }).missing, [m!.receipt], 'an old receipt means nothing in the new queue')
})

t.test('messages past retention are dropped in any state, oldest first', async (t) => {
  const h = new Harness()
  h.createQueue('q', { retentionMs: 1000, visibilityTimeoutMs: 100_000 })
  h.send('q', 'old-visible', 'old-in-flight')
  h.receive('q', 1)
  h.advance(1)
  h.receive('q', 1)
  h.advance(500)
  h.send('q', 'young')
  t.equal(h.machine.nextDueMs(), h.nowMs - 501 + 1000, 'the oldest message sets the next due time')
  h.advance(499)
  t.same(h.tick(), { transitions: 2, more: false })
  t.match(h.machine.queueStats('q')!, { total: 1, expiredTotal: 2, inFlight: 0 })
  t.same(h.receive('q').map((m) => text(m.body)), ['young'])
})

t.test('retention 0 keeps messages forever; lowering it applies to messages already there', async (t) => {
  const h = new Harness()
  h.createQueue('q', { retentionMs: 0 })
  h.send('q', 'a')
  h.advance(100 * 24 * 3600 * 1000)
  t.equal(h.machine.nextDueMs(), undefined)
  h.tick()
  t.equal(h.machine.queueStats('q')!.total, 1)
  h.ok({ type: 'queue.update', queue: 'q', config: { retentionMs: 1000 } })
  t.ok(h.machine.nextDueMs()! <= h.nowMs, 'the message is due at once under the new retention')
  h.tick()
  t.match(h.machine.queueStats('q')!, { total: 0, expiredTotal: 1 })
})

t.test('a tick performs a bounded number of transitions and asks for another', async (t) => {
  const h = new Harness()
  h.createQueue('q', { delayMs: 10 })
  const batch = Array.from({ length: 1000 }, (_, i) => ({ body: bytes(String(i)) }))
  const rounds = Math.ceil((TICK_TRANSITIONS_MAX + 500) / 1000)
  for (let i = 0; i < rounds; i++) h.ok({ type: 'queue.send', queue: 'q', messages: batch })
  h.advance(10)
  const first = h.tick()
  t.same(first, { transitions: TICK_TRANSITIONS_MAX, more: true })
  t.ok(h.machine.nextDueMs()! <= h.nowMs, 'work is still due')
  const second = h.tick()
  t.same(second, { transitions: rounds * 1000 - TICK_TRANSITIONS_MAX, more: false })
  t.equal(h.machine.queueStats('q')!.visible, rounds * 1000)
})

t.test('a tick orders work across queues by due time', async (t) => {
  const h = new Harness()
  h.createQueue('b', { delayMs: 5 })
  h.createQueue('a', { delayMs: 10 })
  h.send('a', 'x')
  const sentAtMs = h.nowMs
  h.send('b', 'y')
  t.equal(h.machine.nextDueMs(), h.nowMs + 5)
  h.advance(5).tick()
  t.same(h.effects, [{ type: 'messages-available', queue: 'b' }])
  t.equal(h.machine.nextDueMs(), h.nowMs + 5)
  h.advance(5).tick()
  t.same(h.effects, [{ type: 'messages-available', queue: 'a' }])
  t.equal(h.machine.nextDueMs(), sentAtMs + QUEUE_CONFIG_DEFAULTS.retentionMs, 'then only the default retention is pending')
})

t.test('expired dedup ids are forgotten together by one tick, a little after the oldest expired', async (t) => {
  const h = new Harness()
  h.createQueue('q', { retentionMs: 0 })
  const sendWithDedup = (dedupId: string) => h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes(dedupId), dedupId }] })
  sendWithDedup('a')
  const firstSentAtMs = h.nowMs
  h.advance(400)
  sendWithDedup('b')
  h.advance(2000)
  sendWithDedup('c')
  h.ok({ type: 'queue.purge', queue: 'q' })
  t.equal(h.machine.nextDueMs(), firstSentAtMs + DEDUP_WINDOW_MS + DEDUP_PRUNE_SLACK_MS)
  h.nowMs = firstSentAtMs + DEDUP_WINDOW_MS + DEDUP_PRUNE_SLACK_MS
  t.same(h.tick(), { transitions: 2, more: false }, 'a and b in one tick; c is still remembered')
  t.equal(h.machine.nextDueMs(), firstSentAtMs + 2400 + DEDUP_WINDOW_MS + DEDUP_PRUNE_SLACK_MS)
  t.equal(sendWithDedup('c').duplicates, 1)
  t.equal(sendWithDedup('a').duplicates, 0, 'a forgotten id is a new message')
})

t.test('a dedup id is honoured up to the end of its window even before a tick forgets it', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const [first] = h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('x'), dedupId: 'x' }] }).ids
  h.advance(DEDUP_WINDOW_MS - 1)
  t.same(h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('x'), dedupId: 'x' }] }).ids, [first])
  h.advance(1)
  t.not(h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('x'), dedupId: 'x' }] }).ids[0], first, 'no tick ran, the window still ended')
})
