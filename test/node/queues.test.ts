// Queue semantics through the embedding API, on one real node (WAL thread,
// shard thread, gateway), one test per rule of CONTRACT §4.
import t from 'tap'
import { isTroupeError } from '../../src/index.js'
import { eventually, removeDir, startTestNode, tempDir } from './helpers.js'

const dir = await tempDir()
const node = await startTestNode(dir)
t.teardown(async () => {
  await node.close()
  await removeDir(dir)
})
const q = node.queues

t.test('a queue must exist: sending to a missing queue fails with QUEUE_NOT_FOUND', async (t) => {
  await t.rejects(q.send('missing', 'x'), { code: 'QUEUE_NOT_FOUND' })
  await t.rejects(q.get('missing'), { code: 'QUEUE_NOT_FOUND' })
})

t.test('bad names and fields are refused with INVALID_ARGUMENT and change nothing', async (t) => {
  await t.rejects(q.put('bad name!'), { code: 'INVALID_ARGUMENT' })
  await q.put('valid')
  await t.rejects(q.send('valid', 'x', { priority: 10 }), { code: 'INVALID_ARGUMENT' })
  await t.rejects(q.receive('valid', { max: 101 }), { code: 'INVALID_ARGUMENT' })
  await t.rejects(q.sendBatch('valid', []), { code: 'INVALID_ARGUMENT' })
  t.equal((await q.get('valid')).stats.total, 0)
})

t.test('a batch of 10 MB and a receive of ten 1 MB messages cross to the shard thread and back', async (t) => {
  await q.put('large')
  const body = (n: number) => Buffer.alloc(1_000_000, n)
  await q.sendBatch('large', Array.from({ length: 10 }, (_, n) => ({ body: body(n) })))
  await q.send('large', body(10))
  const messages = await q.receive('large', { max: 100 })
  t.same(
    messages.map((m) => (m.body as Uint8Array)[0]),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'ten in one answer: an eleventh would pass 10 MiB of bodies',
  )
  t.match((await q.get('large')).stats, { visible: 1, inFlight: 10 })
  t.equal((await q.receive('large', { max: 100 })).length, 1, 'the eleventh comes with the next receive')
})

t.test('put creates (created: true) then updates (created: false) the config', async (t) => {
  t.equal((await q.put('cfg', { visibilityTimeoutMs: 5000 })).created, true)
  const updated = await q.put('cfg', { maxReceives: 3 })
  t.equal(updated.created, false)
  t.match((await q.get('cfg')).config, { visibilityTimeoutMs: 5000, maxReceives: 3 })
})

t.test('higher priority is delivered first, then send order; bodies round-trip', async (t) => {
  await q.put('prio')
  await q.send('prio', { n: 1 })
  await q.send('prio', { n: 2 }, { priority: 5 })
  await q.send('prio', { n: 3 })
  await q.send('prio', { n: 4 }, { priority: 5 })
  const got = await q.receive('prio', { max: 10 })
  t.same(
    got.map((m) => (m.body as { n: number }).n),
    [2, 4, 1, 3],
  )
  t.ok(got.every((m) => m.receiveCount === 1))
})

t.test('a repeated dedupId returns the first id and adds nothing', async (t) => {
  await q.put('dedup')
  const first = await q.send('dedup', 'a', { dedupId: 'order-1' })
  const again = await q.send('dedup', 'b', { dedupId: 'order-1' })
  t.equal(again, first)
  t.equal((await q.get('dedup')).stats.total, 1)
})

t.test('a batch is all or nothing', async (t) => {
  await q.put('batch', { maxMessages: 3 })
  const ids = await q.sendBatch('batch', [{ body: 1 }, { body: 2 }])
  t.equal(ids.length, 2)
  await t.rejects(q.sendBatch('batch', [{ body: 3 }, { body: 4 }]), { code: 'QUEUE_FULL' })
  t.equal((await q.get('batch')).stats.total, 2, 'nothing of the refused batch was added')
})

t.test('concurrent single sends (one command for the node) answer as sends one at a time would', async (t) => {
  await q.put('together')
  const ids = await Promise.all(Array.from({ length: 20 }, (_, n) => q.send('together', { n })))
  t.equal(new Set(ids).size, 20, 'one id each')
  const got = await q.receive('together', { max: 100 })
  t.same(
    got.map((m) => (m.body as { n: number }).n),
    Array.from({ length: 20 }, (_, n) => n),
    'delivered in send order',
  )

  await q.put('together-dedup')
  const [first, second, other] = await Promise.all([
    q.send('together-dedup', 'a', { dedupId: 'same' }),
    q.send('together-dedup', 'b', { dedupId: 'same' }),
    q.send('together-dedup', 'c'),
  ])
  t.equal(second, first, 'a repeated dedupId gets the first id')
  t.not(other, first)
  t.equal((await q.get('together-dedup')).stats.total, 2)

  await q.put('together-full', { maxMessages: 3 })
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, n) => q.send('together-full', { n })))
  t.same(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'],
    'the first three fit, the others are QUEUE_FULL (not all five refused)',
  )
  for (const outcome of outcomes.slice(3)) t.match((outcome as PromiseRejectedResult).reason, { code: 'QUEUE_FULL' })
  t.same(
    (await q.receive('together-full', { max: 10 })).map((m) => (m.body as { n: number }).n),
    [0, 1, 2],
  )

  const [bad, good] = await Promise.allSettled([q.send('together', 'x', { priority: 10 }), q.send('together', 'y')])
  t.match((bad as PromiseRejectedResult).reason, { code: 'INVALID_ARGUMENT' }, 'a bad send is refused alone')
  t.equal(good.status, 'fulfilled')
  await t.rejects(Promise.all([q.send('missing-queue', 1), q.send('missing-queue', 2)]), { code: 'QUEUE_NOT_FOUND' })
})

t.test('concurrent receives that do not wait (one command for the node) share out the messages as receives one at a time would', async (t) => {
  await q.put('receives-together')
  await q.sendBatch('receives-together', [{ body: 'low' }, { body: 'high', priority: 9 }, ...Array.from({ length: 5 }, (_, n) => ({ body: n }))])
  const got = await Promise.all([
    q.receive('receives-together', { max: 2 }),
    q.receive('receives-together', { max: 3 }),
    q.receive('receives-together', { max: 5 }),
  ])
  t.same(
    got.map((messages) => messages.map((m) => m.body)),
    [['high', 'low'], [0, 1, 2], [3, 4]],
    'in priority then send order, the earlier caller first; the last one gets what is left',
  )
  t.equal(new Set(got.flat().map((m) => m.receipt)).size, 7, 'a receipt each')
  t.equal((await q.get('receives-together')).stats.inFlight, 7)
  // Receives with another visibility timeout go in a command of their own.
  await q.sendBatch('receives-together', [{ body: 'a' }, { body: 'b' }])
  const [short, long] = await Promise.all([
    q.receive('receives-together', { max: 1, visibilityTimeoutMs: 60_000 }),
    q.receive('receives-together', { max: 1 }),
  ])
  t.same([...short, ...long].map((m) => m.body).sort(), ['a', 'b'])
  t.same(await q.receive('receives-together', { max: 10 }), [], 'nothing left visible')
  t.same(await q.receive('receives-together', { max: 10 }), [], 'nothing left visible')
  await t.rejects(Promise.all([q.receive('no-such-queue'), q.receive('no-such-queue')]), { code: 'QUEUE_NOT_FOUND' })
})

t.test('concurrent acks (one command for the node) answer as acks one at a time would', async (t) => {
  await q.put('acks-together')
  await q.sendBatch('acks-together', Array.from({ length: 4 }, (_, n) => ({ body: n })))
  const [a, b, c, d] = (await q.receive('acks-together', { max: 4 })).map((m) => m.receipt)
  const outcomes = await Promise.allSettled([q.ack('acks-together', a!), q.ack('acks-together', [b!, `${a!}0`]), q.ack('acks-together', [c!]), q.ack('acks-together', a!)])
  t.equal(outcomes[0]!.status, 'fulfilled')
  t.match((outcomes[1] as PromiseRejectedResult).reason, { code: 'RECEIPT_NOT_FOUND', missing: [`${a!}0`] }, 'only its own unknown receipt is named')
  t.equal(outcomes[2]!.status, 'fulfilled')
  t.match((outcomes[3] as PromiseRejectedResult).reason, { code: 'RECEIPT_NOT_FOUND', missing: [a] }, 'the second ack of a receipt finds it gone')
  const stats = (await q.get('acks-together')).stats
  t.equal(stats.total, 1, 'a, b and c were acked')
  await q.ack('acks-together', d!)
  const [bad, good] = await Promise.allSettled([q.ack('acks-together', ''), q.ack('acks-together', 'no-such-receipt')])
  t.match((bad as PromiseRejectedResult).reason, { code: 'INVALID_ARGUMENT' }, 'a malformed receipt is refused alone')
  t.match((good as PromiseRejectedResult).reason, { code: 'RECEIPT_NOT_FOUND' })
  await t.rejects(q.ack('acks-together', []), { code: 'INVALID_ARGUMENT' })
})

t.test('ack removes; a batch ack names exactly the missing receipts and acks the others', async (t) => {
  await q.put('acks')
  await q.sendBatch('acks', [{ body: 1 }, { body: 2 }])
  const [a, b] = await q.receive('acks', { max: 2 })
  await q.ack('acks', a!.receipt)
  await t.rejects(q.ack('acks', a!.receipt), { code: 'RECEIPT_NOT_FOUND' })
  const error = await q.ack('acks', [b!.receipt, 'not-a-receipt']).catch((e: unknown) => e)
  t.ok(isTroupeError(error, 'RECEIPT_NOT_FOUND'))
  t.same(isTroupeError(error) ? error.missing : undefined, ['not-a-receipt'])
  t.equal((await q.get('acks')).stats.total, 0, 'the found receipt was acked')
})

t.test('a lapsed visibility timeout redelivers, and the old receipt is then invalid', async (t) => {
  await q.put('lapse', { visibilityTimeoutMs: 150 })
  await q.send('lapse', 'x')
  const [first] = await q.receive('lapse')
  const second = await eventually(async () => (await q.receive('lapse'))[0], 5_000, 'redelivery')
  t.equal(second.id, first!.id)
  t.equal(second.receiveCount, 2)
  await t.rejects(q.ack('lapse', first!.receipt), { code: 'RECEIPT_NOT_FOUND' })
  await q.ack('lapse', second.receipt)
})

t.test('nack with delay makes the message visible again only after the delay', async (t) => {
  await q.put('nack')
  await q.send('nack', 'x')
  const [m] = await q.receive('nack')
  await q.nack('nack', m!.receipt, { delayMs: 300 })
  t.same(await q.receive('nack'), [], 'not visible during the delay')
  t.equal((await q.get('nack')).stats.delayed, 1)
  const again = await eventually(async () => (await q.receive('nack'))[0], 5_000, 'the delayed message')
  t.equal(again.receiveCount, 2)
})

t.test('extending visibility keeps a message invisible past its original timeout', async (t) => {
  await q.put('extend', { visibilityTimeoutMs: 200 })
  await q.send('extend', 'x')
  const [m] = await q.receive('extend')
  await q.extendVisibility('extend', m!.receipt, 5_000)
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.same(await q.receive('extend'), [])
  await q.ack('extend', m!.receipt)
})

t.test('after maxReceives failed deliveries a message moves to the dead-letter queue, created on demand', async (t) => {
  await q.put('work', { maxReceives: 2, deadLetterQueue: 'work-dlq' })
  const id = await q.send('work', { job: 7 })
  for (let i = 0; i < 2; i++) {
    const [m] = await q.receive('work')
    await q.nack('work', m!.receipt)
  }
  const dead = await eventually(async () => (await q.receive('work-dlq').catch(() => []))[0], 5_000, 'the dead letter')
  t.same(dead.body, { job: 7 })
  await eventually(async () => ((await q.get('work')).stats.total === 0 ? true : undefined), 5_000, 'the source to drop it')
  t.ok(id)
})

t.test('delay: a message sent with delayMs is invisible until then', async (t) => {
  await q.put('delayed')
  await q.send('delayed', 'later', { delayMs: 300 })
  t.same(await q.receive('delayed'), [])
  const m = await eventually(async () => (await q.receive('delayed'))[0], 5_000, 'the delayed message')
  t.equal(m.body, 'later')
})

t.test('long-poll receive answers as soon as a message arrives, and empty at waitMs', async (t) => {
  await q.put('poll')
  const started = Date.now()
  const waiting = q.receive('poll', { waitMs: 10_000 })
  setTimeout(() => void q.send('poll', 'ping'), 100)
  const got = await waiting
  t.equal(got[0]?.body, 'ping')
  t.ok(Date.now() - started < 9_000, 'answered before waitMs')
  t.same(await q.receive('poll', { waitMs: 200 }), [], 'an empty queue answers empty once waitMs passes')
})

t.test('purge empties and delete removes the queue', async (t) => {
  await q.put('temp')
  await q.sendBatch('temp', [{ body: 1 }, { body: 2 }])
  await q.purge('temp')
  t.equal((await q.get('temp')).stats.total, 0)
  await q.delete('temp')
  await t.rejects(q.get('temp'), { code: 'QUEUE_NOT_FOUND' })
  t.notOk((await q.list()).some((entry) => entry.name === 'temp'))
})

t.test('cluster status names a leader for every shard', async (t) => {
  const status = await node.status()
  t.equal(status.shards.length, 4)
  t.ok(status.shards.every((s) => s.leader === 1 && s.members.length === 1))
})
