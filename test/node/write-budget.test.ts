// The node's budget of write bytes in flight: the budget alone, then a real
// node that refuses writes past it with UNAVAILABLE and writes nothing of them.
import t from 'tap'
import { isTroupeError } from '../../src/index.js'
import { LARGE_WRITE_BYTES, WriteBudget } from '../../src/node/write-budget.js'
import { removeDir, startTestNode, tempDir } from './helpers.js'

t.test('takes what fits, gives back, and lets a write larger than the whole budget in alone', async (t) => {
  const budget = new WriteBudget(100)
  t.ok(budget.tryTake(60))
  t.ok(budget.tryTake(40), 'exactly full')
  t.notOk(budget.tryTake(1))
  budget.give(40)
  t.notOk(budget.tryTake(41))
  budget.give(60)
  t.equal(budget.inFlightBytes, 0)
  t.ok(budget.tryTake(500), 'larger than the budget, but nothing else in flight')
  t.notOk(budget.tryTake(1))
  budget.give(500)
  t.throws(() => {
    budget.take(50)
    budget.take(51)
  }, { code: 'UNAVAILABLE', message: /busy: 0\.0 MiB of writes in flight \(its limit is 0\.0 MiB\), the oldest waiting 0 ms; retry later/ })
})

t.test('run gives the bytes back whether the write succeeds or fails', async (t) => {
  const budget = new WriteBudget(100)
  t.equal(await budget.run(80, async () => 'done'), 'done')
  await t.rejects(budget.run(80, async () => Promise.reject(new Error('boom'))), { message: 'boom' })
  t.equal(budget.inFlightBytes, 0)
  let release!: () => void
  const held = budget.run(80, () => new Promise<void>((resolve) => (release = resolve)))
  await t.rejects(budget.run(30, async () => 'never'), { code: 'UNAVAILABLE' })
  release()
  await held
  t.equal(budget.inFlightBytes, 0)
})

t.test('while the oldest write in flight has waited too long, large writes are refused and small ones still taken', async (t) => {
  let now = 0
  const budget = new WriteBudget(100 * 1024 * 1024, 2_500, () => now)
  const large = LARGE_WRITE_BYTES
  let finish!: () => void
  const slow = budget.run(large, () => new Promise<void>((resolve) => (finish = resolve)))
  now = 1_000
  const quick = budget.run(large, async () => 'quick')
  t.equal(await quick, 'quick', 'a large write while the oldest has waited 1 s')
  now = 2_600
  t.equal(budget.oldestWaitedMs, 2_600)
  await t.rejects(budget.run(large, async () => 'late'), { code: 'UNAVAILABLE', message: /the oldest waiting 2600 ms/ })
  t.equal(await budget.run(large - 1, async () => 'small'), 'small', 'a write under LARGE_WRITE_BYTES still passes')
  t.equal(budget.refusedTotal, 1)
  finish()
  await slow
  t.equal(budget.oldestWaitedMs, 0)
  let finishSmall!: () => void
  const small = budget.run(large - 1, () => new Promise<void>((resolve) => (finishSmall = resolve)))
  now = 10_000
  t.equal(budget.oldestWaitedMs, 0, 'a small write is not timed')
  finishSmall()
  await small
  t.equal(await budget.run(large, async () => 'again'), 'again', 'once it is answered, large writes are taken again')
})

t.test('a node refuses writes past its budget at once, and what it refused was not written', async (t) => {
  const dir = await tempDir()
  const node = await startTestNode(dir, { writeBytesInFlightMax: 3_000_000 })
  t.teardown(async () => {
    await node.close()
    await removeDir(dir)
  })
  await node.queues.put('q')
  const batch = Array.from({ length: 10 }, () => ({ body: Buffer.alloc(100_000) }))
  // Five batches of 1,000,050 bytes once encoded, at once: two fit in 3,000,000 bytes, a third would not.
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => node.queues.sendBatch('q', batch)))
  const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as unknown)
  t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2, 'two admitted')
  t.equal(refused.length, 3)
  t.ok(refused.every((error) => isTroupeError(error, 'UNAVAILABLE')), 'refused with UNAVAILABLE')
  t.equal((await node.queues.get('q')).stats.total, 20, 'only the admitted batches were written')
  t.equal(node.writes.inFlightBytes, 0, 'everything given back')
  t.equal((await node.queues.sendBatch('q', batch)).length, 10, 'once answered, the budget takes writes again')
  // Single sends and KV puts count too.
  node.writes.take(3_000_000)
  await t.rejects(node.queues.send('q', 'x'), { code: 'UNAVAILABLE' })
  await t.rejects(node.kv.put('k', 'v'), { code: 'UNAVAILABLE' })
  node.writes.give(3_000_000)
  t.ok(await node.queues.send('q', 'x'))
  t.ok(await node.kv.put('k', 'v'))
})
