// The WAL's per-batch distributions (fsync latency, records and bytes per
// batch) that the node exports as metrics.
import t from 'tap'
import { BucketCounter, exponentialBounds } from '../../src/wal/bucket-counts.js'
import { Wal } from '../../src/wal/index.js'
import { entry, tempDir } from './helpers.js'

t.test('a bucket counter puts each value in the first bucket whose bound holds it, and counts values above every bound last', async (t) => {
  const counter = new BucketCounter([1, 2, 4])
  for (const value of [0.5, 1, 1.5, 3, 4, 9, 100]) counter.observe(value)
  const snapshot = counter.snapshot()
  t.same(snapshot.counts, [2, 1, 2, 2])
  t.equal(snapshot.count, 7)
  t.equal(snapshot.sum, 119)
  counter.observe(1)
  t.same(snapshot.counts, [2, 1, 2, 2], 'a snapshot does not change with later observations')
  t.throws(() => new BucketCounter([1, 1]), RangeError)
  t.same(exponentialBounds(1, 2, 4), [1, 2, 4, 8])
})

t.test('with sync=always every batch is one fsync, measured, and its records and bytes are counted', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t) })
  await Promise.all(Array.from({ length: 8 }, (_, shard) => wal.append({ shard, entries: [entry(shard, 1, 1)] })))
  await wal.append({ shard: 1, entries: [entry(1, 2, 1)] })
  const stats = wal.stats()
  t.ok(stats.batches >= 2, `batches=${stats.batches}`)
  t.equal(stats.fsyncs, stats.batches, 'one fsync per batch')
  t.equal(stats.fsyncMs.count, stats.fsyncs)
  t.ok(stats.fsyncMs.sum > 0, 'fsync latency is measured')
  t.equal(stats.batchRecords.count, stats.batches)
  t.equal(stats.batchRecords.sum, stats.recordsWritten)
  t.equal(stats.batchBytes.sum, stats.bytesWritten)
  t.equal(stats.batchRecords.counts.reduce((a, b) => a + b, 0), stats.batches)
  await wal.close()
})

t.test('with sync=none batches are counted but nothing is fsynced', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t), sync: 'none' })
  await wal.append({ shard: 1, entries: [entry(1, 1, 1), entry(1, 2, 1)] })
  const stats = wal.stats()
  t.equal(stats.fsyncs, 0)
  t.equal(stats.fsyncMs.count, 0)
  t.equal(stats.batchRecords.count, stats.batches)
  t.equal(stats.batchRecords.sum, 2)
  await wal.close()
})

t.test('batches block the thread while their average time is under blockingIoMaxMs, and go to the pool above it', async (t) => {
  const writeSequentially = async (wal: Wal, count: number) => {
    for (let i = 1; i <= count; i++) await wal.append({ shard: 1, entries: [entry(1, i, 1)] })
  }
  const blocking = await Wal.open({ dir: await tempDir(t), blockingIoMaxMs: 1000 })
  await writeSequentially(blocking, 5)
  t.equal(blocking.stats().batches, 5)
  t.equal(blocking.stats().blockingBatches, 5, 'a disk faster than 1 s: every batch blocks')
  await blocking.close()

  const pool = await Wal.open({ dir: await tempDir(t), blockingIoMaxMs: 0 })
  await writeSequentially(pool, 5)
  t.equal(pool.stats().blockingBatches, 0, '0: always the pool')
  await pool.close()

  // Every real batch takes longer than a nanosecond: the first blocks (no
  // average yet), and from then on the average keeps the batches in the pool.
  const slow = await Wal.open({ dir: await tempDir(t), blockingIoMaxMs: 1e-6 })
  await writeSequentially(slow, 5)
  t.equal(slow.stats().blockingBatches, 1)
  t.equal(slow.stats().batches, 5)
  t.same(slow.shardState(1).lastIndex, 5, 'both ways write the same log')
  await slow.close()

  await t.rejects(Wal.open({ dir: await tempDir(t), blockingIoMaxMs: -1 }), { code: 'WAL_INVALID_ARGUMENT' })
})
