import t from 'tap'
import fc from 'fast-check'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Wal, type ShardPin, type ShardWrite } from '../../src/wal/index.js'
import { entries, tempDir } from './helpers.js'
import { expectedOf, LogModel, observe } from './log-model.js'

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /^wal-\d{16}\.log$/.test(n)).sort()
}

/**
 * The segment files once `released(files)` holds, or after 2 s. Segments are
 * released right after the batch that allows it is confirmed, not before:
 * a test waits (bounded) for the unlinks instead of racing them.
 */
async function segmentFilesAfterRelease(dir: string, released: (files: string[]) => boolean): Promise<string[]> {
  let files = await segmentFiles(dir)
  for (let tries = 0; !released(files) && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    files = await segmentFiles(dir)
  }
  return files
}

t.test('segments roll at the size bound', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir, segmentBytesMax: 4096 })
  for (let i = 0; i < 150; i++) await wal.append({ shard: i % 3, entries: entries(i % 3, Math.floor(i / 3) + 1, 1, 1) })
  const files = await segmentFiles(dir)
  t.ok(files.length >= 3, `${files.length} segments`)
  for (const f of files) t.ok((await stat(join(dir, f))).size <= 4096, `${f} within the bound`)
  await wal.close()
})

t.test('a segment is deleted only once every shard with entries in it has a snapshot covering them', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir, segmentBytesMax: 2048 })
  for (let round = 0; round < 12; round++) {
    await Promise.all([1, 2].map((shard) => wal.append({ shard, entries: entries(shard, round * 3 + 1, 3, 1) })))
  }
  const before = await segmentFiles(dir)
  t.ok(before.length >= 4, `${before.length} segments`)
  await wal.append({ shard: 1, snapshot: { index: 30, term: 1 } })
  t.same(await segmentFiles(dir), before, 'shard 2 still needs every old segment')
  const pins = wal.pinnedBy()
  t.equal(pins.length, 1)
  t.match(pins[0], { shard: 2, oldestSegment: 1, snapshotIndex: 0 })
  await wal.append({ shard: 2, snapshot: { index: 30, term: 1 } })
  const after = await segmentFilesAfterRelease(dir, (files) => files.length < before.length)
  t.ok(after.length < before.length, `${after.length} segments remain`)
  // Every entry after the marks is still readable, now and after a restart.
  const check = async (w: Wal) => {
    for (const shard of [1, 2]) {
      const read = await w.readEntries(shard, 31, 37)
      t.same(read.map((e) => e.index), [31, 32, 33, 34, 35, 36])
    }
  }
  await check(wal)
  await wal.close()
  const reopened = await Wal.open({ dir, segmentBytesMax: 2048 })
  t.same(reopened.recovery.uncoveredGaps, [])
  t.equal(reopened.recovery.stoppedAt, undefined, 'preallocated zeros after the last record are not damage')
  t.same(reopened.recovery.quarantined, [])
  t.equal(reopened.shardState(1).snapshotIndex, 30)
  await check(reopened)
  await reopened.close()
})

t.test('a read of old entries in flight while their segment is deleted still returns them', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir, segmentBytesMax: 2048, cacheBytesMax: 1, cacheEntriesMax: 1 })
  for (let i = 0; i < 10; i++) await wal.append({ shard: 1, entries: entries(1, i * 4 + 1, 4, 1) })
  const files = await segmentFiles(dir)
  const reading = wal.readEntries(1, 1, 41)
  const marking = wal.append({ shard: 1, snapshot: { index: 40, term: 1 } })
  const [read] = await Promise.all([reading, marking])
  t.same(read.map((e) => e.index), Array.from({ length: 40 }, (_, i) => i + 1))
  t.ok((await segmentFilesAfterRelease(dir, (now) => now.length < files.length)).length < files.length, 'the segments were deleted')
  await t.rejects(wal.readEntries(1, 1, 2), { code: 'WAL_COMPACTED' })
  await wal.close()
})

t.test('a hard state survives the deletion of the segment it was written to', async (t) => {
  const dir = await tempDir(t)
  let wal = await Wal.open({ dir, segmentBytesMax: 2048 })
  await wal.append({ shard: 7, hardState: { term: 9, vote: 3, commit: 0 } })
  for (let i = 0; i < 10; i++) await wal.append({ shard: 1, entries: entries(1, i * 4 + 1, 4, 1) })
  await wal.append({ shard: 1, snapshot: { index: 40, term: 1 } })
  const files = await segmentFilesAfterRelease(dir, (now) => !now.includes('wal-0000000000000001.log'))
  t.notOk(files.includes('wal-0000000000000001.log'), 'the first segment is gone')
  await wal.close()
  wal = await Wal.open({ dir, segmentBytesMax: 2048 })
  t.same(wal.shardState(7).hardState, { term: 9, vote: 3, commit: 0 })
  t.same(wal.shardState(1).snapshotIndex, 40)
  await wal.close()
})

t.test('the node is asked to snapshot shards that pin too many segments', async (t) => {
  const requests: ShardPin[][] = []
  const wal = await Wal.open({
    dir: await tempDir(t),
    segmentBytesMax: 2048,
    retainedSegmentsSoftMax: 2,
    onSnapshotRequested: (pins) => requests.push(pins),
  })
  await wal.append({ shard: 5, entries: entries(5, 1, 3, 1) })
  for (let i = 0; i < 30; i++) await wal.append({ shard: 6, entries: entries(6, i * 4 + 1, 4, 1) })
  await wal.append({ shard: 6, snapshot: { index: 120, term: 1 } })
  t.ok(requests.length > 0, 'asked at least once')
  t.equal(requests[0]![0]!.shard, 5, 'the shard holding the oldest segment comes first')
  t.ok(requests.every((pins) => pins.some((p) => p.shard === 5)))
  t.same(wal.pinnedBy(), [{ shard: 5, oldestSegment: 1, neededSnapshotIndex: 3, snapshotIndex: 0 }])
  await wal.close()
})

// Random histories of appends, overwrites, snapshot marks and hard states over tiny
// segments, with restarts: the WAL must always equal the naive model, so segment
// deletion never removed an entry the model still has.
t.test('segment deletion never removes a needed entry (model-based)', async (t) => {
  const work = await tempDir(t)
  let run = 0
  let segmentsDeleted = 0
  const op = fc.record({
    shard: fc.integer({ min: 0, max: 2 }),
    kind: fc.constantFrom('append', 'append', 'append', 'overwrite', 'mark', 'hardState', 'restart'),
    count: fc.integer({ min: 1, max: 6 }),
    back: fc.integer({ min: 0, max: 8 }),
  })
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
      const dir = join(work, `run-${run++}`)
      const options = { dir, segmentBytesMax: 1024, sync: 'none' as const }
      let wal = await Wal.open(options)
      const model = new LogModel()
      let term = 1
      try {
        for (const o of ops) {
          const s = model.shard(o.shard)
          let write: ShardWrite | undefined
          if (o.kind === 'append') {
            write = { shard: o.shard, entries: entries(o.shard, s.lastIndex + 1, o.count, term) }
          } else if (o.kind === 'overwrite') {
            const from = Math.max(s.snapshotIndex + 1, s.lastIndex + 1 - o.back)
            term++
            write = { shard: o.shard, truncateFrom: from, entries: entries(o.shard, from, o.count, term) }
          } else if (o.kind === 'mark') {
            const index = Math.max(0, s.lastIndex - o.back) + (o.back === 0 ? o.count : 0)
            write = { shard: o.shard, snapshot: { index, term } }
          } else if (o.kind === 'hardState') {
            write = { shard: o.shard, hardState: { term, vote: o.count, commit: s.lastIndex } }
          } else {
            await wal.close()
            wal = await Wal.open(options)
            if (wal.recovery.uncoveredGaps.length > 0) return false
          }
          if (write !== undefined) {
            await wal.append(write)
            model.applyWrite(write)
          }
        }
        await wal.close()
        wal = await Wal.open(options)
        for (const shard of model.shards.keys()) {
          const got = await observe(wal, shard)
          const want = expectedOf(model, shard)
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            t.same(got, want, `shard ${shard} after ${JSON.stringify(ops)}`)
            return false
          }
        }
        segmentsDeleted += wal.stats().activeSegment - wal.stats().segments
        return wal.recovery.uncoveredGaps.length === 0
      } finally {
        await wal.close()
      }
    }),
    { numRuns: 40 },
  )
  t.ok(segmentsDeleted > 0, `the histories deleted ${segmentsDeleted} segments`)
})
