import t from 'tap'
import { Harness, text } from './helpers/harness.js'

t.test('a lapsed visibility timeout counts as a failed delivery and makes the message visible again', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 1000 })
  h.send('q', 'a')
  const [first] = h.receive('q')
  t.equal(h.machine.queueStats('q')!.inFlight, 1)
  t.equal(h.machine.nextDueMs(), h.nowMs + 1000)
  h.advance(999)
  t.same(h.tick(), { transitions: 0, more: false }, 'a tick before the deadline changes nothing')
  h.advance(1)
  t.same(h.tick(), { transitions: 1, more: false })
  t.same(h.effects, [{ type: 'messages-available', queue: 'q' }])
  t.same(h.machine.queueStats('q')!.visible, 1)
  const [second] = h.receive('q')
  t.equal(second!.id, first!.id)
  t.equal(second!.receiveCount, 2, 'the lapse counted as a delivery attempt')
})

t.test('a lapse counts toward maxReceives exactly like a nack', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 10, maxReceives: 2 })
  h.send('q', 'a')
  h.receive('q')
  h.advance(10).tick()
  h.receive('q')
  h.advance(10).tick()
  t.equal(h.machine.queueStats('q')!.total, 0)
  t.equal(h.machine.queueStats('q')!.droppedTotal, 1)
})

t.test('an old receipt is invalid once the message was delivered again', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 100 })
  h.send('q', 'a')
  const [first] = h.receive('q')
  h.advance(100)
  const [second] = h.receive('q')
  t.equal(second!.id, first!.id)
  t.not(second!.receipt, first!.receipt)
  const out = h.ok({ type: 'queue.ack', queue: 'q', receipts: [first!.receipt] })
  t.same(out, { acked: 0, missing: [first!.receipt] })
  t.equal(h.error({ type: 'queue.nack', queue: 'q', receipt: first!.receipt }).code, 'RECEIPT_NOT_FOUND')
  t.equal(h.error({ type: 'queue.visibility', queue: 'q', receipt: first!.receipt, timeoutMs: 10 }).code, 'RECEIPT_NOT_FOUND')
  t.same(h.ok({ type: 'queue.ack', queue: 'q', receipts: [second!.receipt] }), { acked: 1, missing: [] })
})

t.test('a receipt naming the right delivery count but another receive entry is refused', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.send('q', 'a')
  const [m] = h.receive('q')
  const forged = m!.receipt.replace(/\.(\d+)$/, (_, index: string) => `.${Number(index) + 1}`)
  t.not(forged, m!.receipt)
  t.same(h.ok({ type: 'queue.ack', queue: 'q', receipts: [forged] }).missing, [forged])
  t.equal(h.machine.queueStats('q')!.inFlight, 1)
})

t.test('a receipt past its deadline is refused even before a tick processed the lapse', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 100 })
  h.send('q', 'a')
  const [m] = h.receive('q')
  h.advance(100)
  t.equal(h.error({ type: 'queue.nack', queue: 'q', receipt: m!.receipt }).code, 'RECEIPT_NOT_FOUND')
  t.equal(h.machine.queueStats('q')!.visible, 1, 'the lapse was applied as a failed delivery')
})

t.test('a batch ack acks the found receipts and names exactly the missing ones', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.send('q', 'a', 'b', 'c')
  const [a, b, c] = h.receive('q')
  const bogus = '1-999-0.1.1000'
  const malformed = 'not-a-receipt'
  const foreign = a!.receipt.replace(/^1-/, '2-')
  const out = h.ok({ type: 'queue.ack', queue: 'q', receipts: [a!.receipt, bogus, c!.receipt, malformed, a!.receipt, foreign] })
  t.same(out, { acked: 2, missing: [bogus, malformed, foreign] })
  const stats = h.machine.queueStats('q')!
  t.equal(stats.total, 1)
  t.equal(stats.ackedTotal, 2)
  t.same(h.ok({ type: 'queue.ack', queue: 'q', receipts: [a!.receipt, b!.receipt] }), { acked: 1, missing: [a!.receipt] }, 'an acked receipt is gone')
})

t.test('an acked message is never delivered again', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 10 })
  h.send('q', 'a')
  const [m] = h.receive('q')
  h.ok({ type: 'queue.ack', queue: 'q', receipts: [m!.receipt] })
  h.advance(1000).tick()
  t.same(h.receive('q'), [])
  t.equal(h.machine.nextDueMs(), undefined)
})

t.test('nack makes the message visible again at once, back in its original send order', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.send('q', 'a', 'b', 'c')
  const [a] = h.receive('q', 1)
  t.same(h.ok({ type: 'queue.nack', queue: 'q', receipt: a!.receipt }), { outcome: 'visible' })
  t.same(h.effects, [{ type: 'messages-available', queue: 'q' }])
  const again = h.receive('q')
  t.same(again.map((m) => text(m.body)), ['a', 'b', 'c'])
  t.same(again.map((m) => m.receiveCount), [2, 1, 1])
})

t.test('nack with a delay keeps the message invisible until the delay passed', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  h.send('q', 'a')
  const [a] = h.receive('q')
  t.same(h.ok({ type: 'queue.nack', queue: 'q', receipt: a!.receipt, delayMs: 500 }), { outcome: 'delayed' })
  t.equal(h.machine.queueStats('q')!.delayed, 1)
  t.equal(h.machine.nextDueMs(), h.nowMs + 500)
  h.advance(499)
  t.same(h.receive('q'), [])
  h.advance(1)
  t.same(h.receive('q').map((m) => m.receiveCount), [2])
})

t.test('extending visibility moves the deadline from the time of the command', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 100 })
  h.send('q', 'a')
  const [m] = h.receive('q')
  h.advance(90)
  t.same(h.ok({ type: 'queue.visibility', queue: 'q', receipt: m!.receipt, timeoutMs: 1000 }), { visibleAtMs: h.nowMs + 1000 })
  h.advance(999).tick()
  t.equal(h.machine.queueStats('q')!.inFlight, 1, 'still in flight past the original deadline')
  t.same(h.ok({ type: 'queue.ack', queue: 'q', receipts: [m!.receipt] }), { acked: 1, missing: [] }, 'the receipt stays valid')
})

t.test('shortening visibility makes the message lapse sooner', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 10_000 })
  h.send('q', 'a')
  const [m] = h.receive('q')
  h.ok({ type: 'queue.visibility', queue: 'q', receipt: m!.receipt, timeoutMs: 5 })
  t.equal(h.machine.nextDueMs(), h.nowMs + 5)
  h.advance(5).tick()
  t.equal(h.machine.queueStats('q')!.visible, 1)
})

t.test('a receive may override the visibility timeout', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 10_000 })
  h.send('q', 'a')
  h.receive('q', 1, 50)
  t.equal(h.machine.nextDueMs(), h.nowMs + 50)
})

t.test('time never goes backwards: an older leader stamp is read as the latest time seen', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 100 })
  h.send('q', 'a')
  h.receive('q')
  h.advance(100).tick()
  t.equal(h.machine.queueStats('q')!.visible, 1)
  const late = h.machine.nowMs
  h.nowMs -= 50_000
  const [m] = h.receive('q')
  t.equal(h.machine.nowMs, late)
  t.equal(h.machine.nextDueMs(), late + 100, 'the deadline is computed from the machine time')
  t.ok(m)
})
