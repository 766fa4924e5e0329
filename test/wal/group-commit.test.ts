import t from 'tap'
import { Wal, isWalError, type DurableAck } from '../../src/wal/index.js'
import { entries, entry, payloadFor, tempDir } from './helpers.js'

t.test('writes from many shards submitted together share one batch and one sync', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir })
  const acks = await Promise.all(Array.from({ length: 64 }, (_, shard) => wal.append({ shard, entries: [entry(shard, 1, 1)] })))
  t.same(acks, Array.from({ length: 64 }, (_, shard) => ({ shard, durableIndex: 1 })))
  t.equal(wal.stats().batches, 1)
  t.equal(wal.stats().recordsWritten, 64)
  await wal.close()
})

t.test('writes submitted from the immediates of one turn (shards pumping) share one batch', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t) })
  const acks = await new Promise<DurableAck[]>((resolve, reject) => {
    const pending: Promise<DurableAck>[] = []
    for (let shard = 0; shard < 8; shard++) {
      setImmediate(() => {
        pending.push(wal.append({ shard, entries: [entry(shard, 1, 1)] }))
        if (pending.length === 8) Promise.all(pending).then(resolve, reject)
      })
    }
  })
  t.same(
    acks.map((a) => a.durableIndex),
    Array(8).fill(1),
  )
  t.equal(wal.stats().batches, 1, 'one writev and one fsync for the eight shards')
  await wal.close()
})

t.test('a batch is what queued during the previous write, bounded in records and bytes', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir, batchRecordsMax: 4 })
  const pending: Promise<DurableAck>[] = []
  for (let i = 1; i <= 20; i++) pending.push(wal.append({ shard: 1, entries: [entry(1, i, 1)] }))
  const acks = await Promise.all(pending)
  t.same(acks.map((a) => a.durableIndex), Array.from({ length: 20 }, (_, i) => i + 1))
  t.ok(wal.stats().batches >= 5, `batches=${wal.stats().batches}`)
  await wal.close()

  const bytesBound = await Wal.open({ dir: await tempDir(t), batchBytesMax: 1024, payloadBytesMax: 900 })
  const big = Array.from({ length: 10 }, (_, i) => ({ index: i + 1, term: 1, kind: 0, payload: Buffer.alloc(400, i) }))
  await Promise.all(big.map((e) => bytesBound.append({ shard: 2, entries: [e] })))
  // 429 bytes per record: at most two fit in 1024 bytes.
  t.ok(bytesBound.stats().batches >= 5, `batches=${bytesBound.stats().batches}`)
  await bytesBound.close()
})

t.test('each write learns the index through which its shard is durable', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t) })
  const a = wal.append({ shard: 3, entries: entries(3, 1, 5, 1) })
  const b = wal.append({ shard: 3, entries: entries(3, 6, 2, 1), hardState: { term: 1, vote: 0, commit: 4 } })
  const c = wal.append({ shard: 9, hardState: { term: 4, vote: 2, commit: 0 } })
  t.same(await Promise.all([a, b, c]), [
    { shard: 3, durableIndex: 5 },
    { shard: 3, durableIndex: 7 },
    { shard: 9, durableIndex: 0 },
  ])
  t.same(wal.shardState(3).hardState, { term: 1, vote: 0, commit: 4 })
  t.same(wal.shardState(9).hardState, { term: 4, vote: 2, commit: 0 })
  await wal.close()
})

t.test('submit waits while the queue is over its bound and accepts in order once it drains', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t), pendingWritesMax: 3 })
  const receipts = []
  for (let i = 1; i <= 6; i++) receipts.push(wal.submit({ shard: 5, entries: [entry(5, i, 1)] }))
  t.equal(wal.stats().waitingWrites, 3, 'three writes wait for room')
  let accepted = 0
  for (const r of receipts) void r.then(() => accepted++)
  await Promise.resolve()
  t.ok(accepted < 6, 'not all submits resolved before the queue drained')
  const acks = await Promise.all(receipts.map(async (r) => (await r).durable))
  t.same(acks.map((a) => a.durableIndex), [1, 2, 3, 4, 5, 6])
  t.equal(wal.stats().waitingWrites, 0)
  await wal.close()
})

t.test('beyond the bound on waiting writes, submit refuses instead of queueing without limit', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t), pendingWritesMax: 2 })
  const submits = Array.from({ length: 8 }, (_, i) =>
    wal.submit({ shard: 6, entries: [entry(6, i + 1, 1)] }).then(
      (r) => r.durable.then(() => 'durable'),
      (error: unknown) => (isWalError(error) ? error.code : String(error)),
    ),
  )
  const outcomes = await Promise.all(submits)
  t.ok(outcomes.includes('WAL_OVERLOADED'), outcomes.join(','))
  // What was accepted is contiguous from 1: a refused write never advanced the shard's log.
  const accepted = outcomes.filter((o) => o === 'durable').length
  t.equal(wal.shardState(6).lastIndex, accepted)
  t.same(outcomes.slice(0, accepted), Array.from({ length: accepted }, () => 'durable'))
  await wal.close()
})

t.test('invalid writes are refused before anything is queued', async (t) => {
  const wal = await Wal.open({ dir: await tempDir(t), payloadBytesMax: 1000, batchBytesMax: 4096 })
  await wal.append({ shard: 1, entries: entries(1, 1, 3, 2) })
  const code = async (p: Promise<unknown>) => {
    try {
      await p
      return 'resolved'
    } catch (error) {
      return isWalError(error) ? error.code : String(error)
    }
  }
  t.equal(await code(wal.append({ shard: 1, entries: [entry(1, 5, 2)] })), 'WAL_NOT_CONTIGUOUS', 'gap')
  t.equal(await code(wal.append({ shard: 1, entries: [entry(1, 3, 2)] })), 'WAL_NOT_CONTIGUOUS', 'overwrite without truncateFrom')
  t.equal(await code(wal.append({ shard: 1, entries: [entry(1, 4, 1)] })), 'WAL_INVALID_ARGUMENT', 'term goes down')
  t.equal(await code(wal.append({ shard: 1, entries: [entry(1, 4, 2, 128)] })), 'WAL_INVALID_ARGUMENT', 'kind out of range')
  t.equal(await code(wal.append({ shard: -1, entries: [] })), 'WAL_INVALID_ARGUMENT', 'shard id')
  t.equal(await code(wal.append({ shard: 1, truncateFrom: 9 })), 'WAL_INVALID_ARGUMENT', 'truncate past the end')
  t.equal(await code(wal.append({ shard: 1, hardState: { term: 2 ** 53, vote: 0, commit: 0 } })), 'WAL_INVALID_ARGUMENT', 'unsafe integer')
  const big = { index: 4, term: 2, kind: 0, payload: Buffer.alloc(1001) }
  t.equal(await code(wal.append({ shard: 1, entries: [big] })), 'WAL_WRITE_TOO_LARGE', 'payload bound')
  const many = Array.from({ length: 10 }, (_, i) => ({ index: 4 + i, term: 2, kind: 0, payload: Buffer.alloc(900) }))
  t.equal(await code(wal.append({ shard: 1, entries: many })), 'WAL_WRITE_TOO_LARGE', 'write bound')
  await wal.append({ shard: 1, snapshot: { index: 2, term: 2 } })
  t.equal(await code(wal.append({ shard: 1, truncateFrom: 2 })), 'WAL_COMPACTED', 'truncate into the snapshot')
  // After all the refusals the shard's log is still exactly what was accepted.
  t.equal((await wal.append({ shard: 1, entries: [entry(1, 4, 3)] })).durableIndex, 4)
  await wal.close()
  t.equal(await code(wal.append({ shard: 1, entries: [entry(1, 5, 3)] })), 'WAL_CLOSED')
})

t.test('sync none confirms after the write and the data is there after reopening', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir, sync: 'none' })
  await Promise.all([1, 2, 3].map((shard) => wal.append({ shard, entries: entries(shard, 1, 10, 1) })))
  await wal.close()
  const reopened = await Wal.open({ dir })
  for (const shard of [1, 2, 3]) {
    const read = await reopened.readEntries(shard, 1, 11)
    t.same(read.map((e) => Buffer.from(e.payload)), Array.from({ length: 10 }, (_, i) => payloadFor(shard, i + 1, 1)))
  }
  await reopened.close()
})

t.test('reads return the same entries from the memory cache and from disk', async (t) => {
  const dir = await tempDir(t)
  const cached = await Wal.open({ dir })
  for (let shard = 0; shard < 4; shard++) {
    for (let i = 0; i < 5; i++) await cached.append({ shard, entries: entries(shard, i * 20 + 1, 20, 1 + i) })
  }
  const fromMemory = await cached.readEntries(2, 1, 101)
  t.ok(cached.stats().cachedBytes > 0)
  await cached.close()
  // A cache too small to hold anything forces every read to disk (recovery fills the cache otherwise).
  const uncached = await Wal.open({ dir, cacheBytesMax: 1, cacheEntriesMax: 1 })
  const fromDisk = await uncached.readEntries(2, 1, 101)
  t.same(fromDisk.map((e) => [e.index, e.term, Buffer.from(e.payload)]), fromMemory.map((e) => [e.index, e.term, Buffer.from(e.payload)]))
  t.equal(fromDisk.length, 100)
  t.same(fromDisk[99]!.payload, payloadFor(2, 100, 5))
  // maxBytes stops early but always returns at least one entry.
  const limited = await uncached.readEntries(2, 1, 101, 1)
  t.equal(limited.length, 1)
  await t.rejects(uncached.readEntries(2, 1, 102), { code: 'WAL_OUT_OF_RANGE' })
  await uncached.close()
})

t.test('a failed write fails the WAL for good: nothing queued is confirmed, nothing new is accepted', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir, segmentBytesMax: 2048 })
  // The next segment's name is taken, so the roll's exclusive create fails like a disk error would.
  const { symlink } = await import('node:fs/promises')
  const { join } = await import('node:path')
  await symlink('/dev/full', join(dir, 'wal-0000000000000002.log'))
  let index = 0
  const results: string[] = []
  for (let round = 0; round < 40 && results.length === 0; round++) {
    const batch = Array.from({ length: 4 }, () => {
      index++
      return wal.append({ shard: 1, entries: [entry(1, index, 1)] }).then(
        () => 'ok',
        (error: unknown) => (isWalError(error) ? error.code : String(error)),
      )
    })
    const outcomes = await Promise.all(batch)
    results.push(...outcomes.filter((o) => o !== 'ok'))
  }
  t.ok(results.length > 0, 'writes failed once the roll failed')
  t.ok(results.every((code) => code === 'WAL_FAILED'), `codes: ${[...new Set(results)].join(',')}`)
  await t.rejects(wal.append({ shard: 1, entries: [entry(1, index + 1, 1)] }), { code: 'WAL_FAILED' })
  const durable = wal.shardState(1).lastIndex
  await wal.close()
  // Once the cause is gone, a restart recovers everything that was confirmed.
  const { unlink } = await import('node:fs/promises')
  await unlink(join(dir, 'wal-0000000000000002.log'))
  const reopened = await Wal.open({ dir, segmentBytesMax: 2048 })
  t.ok(durable > 0 && reopened.shardState(1).lastIndex >= durable, `confirmed through ${durable}, recovered ${reopened.shardState(1).lastIndex}`)
  t.same((await reopened.readEntries(1, 1, durable + 1)).map((e) => e.payload), Array.from({ length: durable }, (_, i) => entry(1, i + 1, 1).payload))
  await reopened.close()
})
