import t from 'tap'
import { ShardMachine, type DeadLetterEffect, type ShardEffect } from '../../src/machines/index.js'
import { Harness, text } from './helpers/harness.js'

function deadLetters(effects: ShardEffect[]): DeadLetterEffect[] {
  return effects.filter((e): e is DeadLetterEffect => e.type === 'dead-letter')
}

/** What the runtime does with a dead-letter effect: create the DLQ, send the copy, then complete on the source. */
function driveDeadLetter(effect: DeadLetterEffect, source: Harness, target: Harness, completeOnSource = true): void {
  target.ok({ type: 'queue.create', queue: effect.target, config: {} })
  target.ok({ type: 'queue.send', queue: effect.target, messages: [{ body: effect.body, priority: effect.priority, dedupId: effect.dedupId }] })
  if (completeOnSource) source.ok({ type: 'queue.dead-lettered', queue: effect.source, messageId: effect.messageId })
}

t.test('after maxReceives failed deliveries the message is dead-lettered in two phases across shards', async (t) => {
  const source = new Harness(new ShardMachine(1))
  const target = new Harness(new ShardMachine(2))
  source.createQueue('jobs', { maxReceives: 2, deadLetterQueue: 'jobs-dlq' })
  source.send('jobs', 'poison')
  const [first] = source.receive('jobs')
  t.same(source.ok({ type: 'queue.nack', queue: 'jobs', receipt: first!.receipt }), { outcome: 'visible' })
  const [second] = source.receive('jobs')
  t.same(source.ok({ type: 'queue.nack', queue: 'jobs', receipt: second!.receipt }), { outcome: 'dead-lettering' })

  const [effect] = deadLetters(source.effects)
  t.ok(effect, 'a dead-letter effect is emitted')
  t.match(effect, { source: 'jobs', target: 'jobs-dlq', messageId: first!.id, receiveCount: 2, dedupId: `dead-letter:${first!.id}` })
  t.equal(text(effect!.body), 'poison')

  let stats = source.machine.queueStats('jobs')!
  t.match(stats, { deadLettering: 1, visible: 0, inFlight: 0, total: 1 }, 'the source keeps the message, invisible and counted')
  t.same(source.receive('jobs'), [], 'a dead-lettering message is not delivered')
  t.same(source.machine.pendingDeadLetters(), [effect])

  driveDeadLetter(effect!, source, target)
  stats = source.machine.queueStats('jobs')!
  t.match(stats, { deadLettering: 0, total: 0, deadLetteredTotal: 1 })
  t.same(source.machine.pendingDeadLetters(), [])
  const moved = target.receive('jobs-dlq')
  t.same(moved.map((m) => text(m.body)), ['poison'])
  t.equal(moved[0]!.receiveCount, 1, 'a fresh message in the DLQ')
})

t.test('the creation of the dead-letter queue is itself a logged command', async (t) => {
  const source = new Harness(new ShardMachine(1))
  source.createQueue('jobs', { maxReceives: 1, deadLetterQueue: 'dlq' })
  source.send('jobs', 'x')
  const [m] = source.receive('jobs')
  source.ok({ type: 'queue.nack', queue: 'jobs', receipt: m!.receipt })
  t.equal(source.machine.queueConfig('dlq'), undefined, 'dead-lettering alone creates no queue')
  const target = new Harness(ShardMachine.restore(new ShardMachine(2).snapshot()))
  const before = target.index
  driveDeadLetter(deadLetters(source.effects)[0]!, source, target)
  t.equal(target.index, before + 2, 'create and send are two entries of the target shard')
  t.ok(target.machine.queueConfig('dlq'))
})

t.test('a crash between the two shards is repaired by a new leader re-driving pendingDeadLetters, without a duplicate', async (t) => {
  const source = new Harness(new ShardMachine(1))
  const target = new Harness(new ShardMachine(2))
  source.createQueue('jobs', { maxReceives: 1, deadLetterQueue: 'dlq' })
  source.send('jobs', 'a', 'b')
  const received = source.receive('jobs')
  for (const m of received) source.ok({ type: 'queue.nack', queue: 'jobs', receipt: m.receipt })
  const pending = source.machine.pendingDeadLetters()
  t.equal(pending.length, 2)
  // The old leader sent the first copy and crashed before completing on the source.
  driveDeadLetter(pending[0]!, source, target, false)
  // The new leader rebuilds the source from its snapshot and drives everything pending again.
  const recovered = new Harness(ShardMachine.restore(source.machine.snapshot()))
  recovered.nowMs = source.nowMs
  t.same(recovered.machine.pendingDeadLetters(), pending)
  for (const effect of recovered.machine.pendingDeadLetters()) driveDeadLetter(effect, recovered, target)
  t.equal(target.machine.queueStats('dlq')!.total, 2, 'the repeated send was deduplicated')
  t.match(recovered.machine.queueStats('jobs')!, { total: 0, deadLetteredTotal: 2 })
  t.same(recovered.ok({ type: 'queue.dead-lettered', queue: 'jobs', messageId: pending[0]!.messageId }), { removed: false }, 'completion is idempotent')
})

t.test('a lapsed visibility timeout at maxReceives dead-letters through tick', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 10, maxReceives: 1, deadLetterQueue: 'dlq' })
  h.send('q', 'a')
  h.receive('q')
  h.advance(10).tick()
  t.equal(deadLetters(h.effects).length, 1)
  t.equal(h.machine.queueStats('q')!.deadLettering, 1)
})

t.test('without a dead-letter queue the message is dropped after maxReceives', async (t) => {
  const h = new Harness()
  h.createQueue('q', { maxReceives: 1 })
  h.send('q', 'a', 'b')
  const [a] = h.receive('q', 1)
  t.same(h.ok({ type: 'queue.nack', queue: 'q', receipt: a!.receipt }), { outcome: 'dropped' })
  t.same(h.effects, [])
  t.match(h.machine.queueStats('q')!, { total: 1, droppedTotal: 1, visible: 1 })
  t.same(h.receive('q').map((m) => text(m.body)), ['b'])
})

t.test('maxReceives 0 never dead-letters', async (t) => {
  const h = new Harness()
  h.createQueue('q', { maxReceives: 0, deadLetterQueue: 'dlq' })
  h.send('q', 'a')
  for (let attempt = 1; attempt <= 20; attempt++) {
    const [m] = h.receive('q')
    t.equal(m!.receiveCount, attempt)
    h.ok({ type: 'queue.nack', queue: 'q', receipt: m!.receipt })
  }
  t.same(deadLetters(h.effects), [])
})

t.test('the dead-letter target is fixed when dead-lettering starts', async (t) => {
  const h = new Harness()
  h.createQueue('q', { maxReceives: 1, deadLetterQueue: 'first' })
  h.send('q', 'a')
  const [m] = h.receive('q')
  h.ok({ type: 'queue.nack', queue: 'q', receipt: m!.receipt })
  h.ok({ type: 'queue.update', queue: 'q', config: { deadLetterQueue: 'second' } })
  t.equal(ShardMachine.restore(h.machine.snapshot()).pendingDeadLetters()[0]!.target, 'first')
})

t.test('purge removes dead-lettering messages and their pending moves', async (t) => {
  const h = new Harness()
  h.createQueue('q', { maxReceives: 1, deadLetterQueue: 'dlq' })
  h.send('q', 'a')
  const [m] = h.receive('q')
  h.ok({ type: 'queue.nack', queue: 'q', receipt: m!.receipt })
  const [effect] = deadLetters(h.effects)
  h.ok({ type: 'queue.purge', queue: 'q' })
  t.same(h.machine.pendingDeadLetters(), [])
  t.same(h.ok({ type: 'queue.dead-lettered', queue: 'q', messageId: effect!.messageId }), { removed: false })
  t.equal(h.machine.queueStats('q')!.deadLetteredTotal, 0)
})
