import t from 'tap'
import { DEDUP_WINDOW_MS, parseMessageId, RECEIVE_BYTES_MAX } from '../../src/machines/index.js'
import { Harness, bytes, text } from './helpers/harness.js'
import { contentBytes } from './helpers/recount.js'

t.test('higher priority is delivered first, then send order within a priority', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.ok({
    type: 'queue.send',
    queue: 'q',
    messages: [
      { body: bytes('low-1'), priority: 1 },
      { body: bytes('high-1'), priority: 9 },
      { body: bytes('low-2'), priority: 1 },
      { body: bytes('default') },
    ],
  })
  h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('high-2'), priority: 9 }] })
  const order = h.receive('q', 100).map((m) => text(m.body))
  t.same(order, ['high-1', 'high-2', 'low-1', 'low-2', 'default'])
})

t.test('receive returns at most max messages and leaves the rest visible', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.send('q', 'a', 'b', 'c')
  t.same(h.receive('q', 2).map((m) => text(m.body)), ['a', 'b'])
  t.same(h.machine.queueStats('q')!.visible, 1)
  t.same(h.receive('q', 2).map((m) => text(m.body)), ['c'])
  t.same(h.receive('q', 2), [])
})

t.test('a receive stops before its bodies pass RECEIVE_BYTES_MAX; the rest stay visible for the next', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const body = (n: number) => new Uint8Array(1_000_000).fill(n)
  for (let batch = 0; batch < 2; batch++) {
    h.ok({ type: 'queue.send', queue: 'q', messages: Array.from({ length: 6 }, (_, i) => ({ body: body(batch * 6 + i) })) })
  }
  const firstAnswer = h.ok({ type: 'queue.receive', queue: 'q', max: 100 })
  const first = firstAnswer.messages
  t.equal(RECEIVE_BYTES_MAX, 10 * 1024 * 1024)
  t.equal(first.length, 10, 'ten bodies of 1,000,000 bytes fit in 10 MiB, an eleventh would not')
  t.equal(firstAnswer.full, true, 'the answer says it stopped at the budget')
  t.same(first.map((m) => m.body[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'in send order')
  t.equal(h.machine.queueStats('q')!.visible, 2)
  const secondAnswer = h.ok({ type: 'queue.receive', queue: 'q', max: 100 })
  t.same(secondAnswer.messages.map((m) => m.body[0]), [10, 11])
  t.equal(secondAnswer.full, undefined, 'the queue ran out, not the budget')
})

t.test('message ids come from shard, log index and batch position', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const ids = h.send('q', 'a', 'b')
  t.same(ids, [`1-${h.index}-0`, `1-${h.index}-1`])
  t.ok(parseMessageId(ids[1]!, 1) !== undefined)
  t.equal(parseMessageId(ids[1]!, 2), undefined, 'another shard does not claim the id')
  const [first] = h.receive('q', 1)
  t.equal(first!.id, ids[0])
  t.equal(first!.receiveCount, 1)
  t.equal(first!.sentAtMs, h.nowMs)
})

t.test('a delayed message becomes visible only when its delay has passed', async (t) => {
  const h = new Harness()
  h.createQueue('q', { delayMs: 1000 })
  h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('queue-delay') }, { body: bytes('own-delay'), delayMs: 3000 }, { body: bytes('now'), delayMs: 0 }] })
  t.same(h.machine.queueStats('q')!.delayed, 2)
  t.same(h.receive('q').map((m) => text(m.body)), ['now'])
  t.equal(h.machine.nextDueMs(), h.nowMs + 1000, 'the leader is told when to tick')
  h.advance(999)
  t.same(h.receive('q'), [], 'not yet')
  h.advance(1)
  t.same(h.receive('q').map((m) => text(m.body)), ['queue-delay'], 'due messages are moved lazily by the receive itself')
  h.advance(2000)
  const tick = h.tick()
  t.same(tick, { transitions: 1, more: false })
  t.same(h.effects, [{ type: 'messages-available', queue: 'q' }], 'the tick that makes a message visible wakes long-poll waiters')
  t.same(h.machine.queueStats('q')!.visible, 1)
})

t.test('a send wakes long-poll waiters; a delayed send does not', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('later'), delayMs: 10 }] })
  t.same(h.effects, [])
  h.send('q', 'now')
  t.same(h.effects, [{ type: 'messages-available', queue: 'q' }])
})

t.test('a repeated dedupId within 5 minutes returns the first id and adds nothing; after 5 minutes it is a new message', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const send = (body: string) => h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes(body), dedupId: 'order-17' }] })
  const first = send('first')
  h.advance(DEDUP_WINDOW_MS - 1)
  const repeat = send('repeat')
  t.same(repeat, { ids: first.ids, duplicates: 1 })
  t.equal(h.machine.queueStats('q')!.total, 1)
  const [delivered] = h.receive('q')
  h.ok({ type: 'queue.ack', queue: 'q', receipts: [delivered!.receipt] })
  t.same(send('after ack').ids, first.ids, 'dedup outlives the message itself')
  h.advance(1)
  const later = send('later')
  t.not(later.ids[0], first.ids[0])
  t.equal(later.duplicates, 0)
  t.same(h.receive('q').map((m) => text(m.body)), ['later'])
})

t.test('dedup applies per message inside a batch', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const [earlier] = h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('x'), dedupId: 'x' }] }).ids
  const out = h.ok({
    type: 'queue.send',
    queue: 'q',
    messages: [
      { body: bytes('x again'), dedupId: 'x' },
      { body: bytes('y'), dedupId: 'y' },
      { body: bytes('y again'), dedupId: 'y' },
      { body: bytes('plain') },
    ],
  })
  t.equal(out.ids[0], earlier)
  t.equal(out.ids[2], out.ids[1], 'a repeat within the same batch gets the batch-mate id')
  t.equal(out.duplicates, 2)
  t.same(h.receive('q').map((m) => text(m.body)), ['x', 'y', 'plain'])
})

t.test('maxMessages reached refuses the whole batch with QUEUE_FULL', async (t) => {
  const h = new Harness()
  h.createQueue('q', { maxMessages: 3 })
  h.send('q', 'a', 'b')
  const before = contentBytes(h.machine)
  const error = h.error({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('c') }, { body: bytes('d') }] })
  t.equal(error.code, 'QUEUE_FULL')
  t.equal(h.machine.queueStats('q')!.total, 2, 'nothing of the batch was added')
  t.same(h.machine.queueStats('q')!.sentTotal, 2)
  t.ok(contentBytes(h.machine).equals(before), 'the refused batch changed no state')
  t.same(h.send('q', 'c').length, 1, 'one still fits')
  t.equal(h.error({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('e') }] }).code, 'QUEUE_FULL')
  const [m] = h.receive('q', 1)
  t.equal(h.error({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('e') }] }).code, 'QUEUE_FULL', 'in-flight messages count')
  h.ok({ type: 'queue.ack', queue: 'q', receipts: [m!.receipt] })
  t.same(h.send('q', 'e').length, 1, 'an ack frees room')
})

t.test('duplicates do not count against maxMessages', async (t) => {
  const h = new Harness()
  h.createQueue('q', { maxMessages: 1 })
  h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('a'), dedupId: 'a' }] })
  const out = h.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('a'), dedupId: 'a' }] })
  t.equal(out.duplicates, 1)
})

t.test('a batch with one invalid message is refused whole', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const error = h.error({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('ok') }, { body: bytes('bad'), priority: 10 }] })
  t.equal(error.code, 'INVALID_ARGUMENT')
  t.equal(h.machine.queueStats('q')!.total, 0)
})

t.test('commands on a missing queue answer QUEUE_NOT_FOUND', async (t) => {
  const h = new Harness()
  t.equal(h.error({ type: 'queue.send', queue: 'nope', messages: [{ body: bytes('a') }] }).code, 'QUEUE_NOT_FOUND')
  t.equal(h.error({ type: 'queue.receive', queue: 'nope', max: 1 }).code, 'QUEUE_NOT_FOUND')
  t.equal(h.error({ type: 'queue.ack', queue: 'nope', receipts: ['1-1-0.1.2'] }).code, 'QUEUE_NOT_FOUND')
  t.equal(h.error({ type: 'queue.purge', queue: 'nope' }).code, 'QUEUE_NOT_FOUND')
  t.equal(h.error({ type: 'queue.delete', queue: 'nope' }).code, 'QUEUE_NOT_FOUND')
  t.equal(h.error({ type: 'queue.update', queue: 'nope', config: {} }).code, 'QUEUE_NOT_FOUND')
})
