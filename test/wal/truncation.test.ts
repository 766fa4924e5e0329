import t from 'tap'
import { Wal } from '../../src/wal/index.js'
import { entries, payloadFor, tempDir } from './helpers.js'

async function logOf(wal: Wal, shard: number): Promise<Array<[number, number, string]>> {
  const state = wal.shardState(shard)
  if (state.lastIndex < state.firstIndex) return []
  const read = await wal.readEntries(shard, state.firstIndex, state.lastIndex + 1)
  return read.map((e) => [e.index, e.term, Buffer.from(e.payload).toString('hex')])
}

function expected(shard: number, spans: Array<[from: number, to: number, term: number]>): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = []
  for (const [from, to, term] of spans) {
    for (let i = from; i <= to; i++) out.push([i, term, payloadFor(shard, i, term).toString('hex')])
  }
  return out
}

t.test('a truncated suffix is never read again, before or after restart', async (t) => {
  const dir = await tempDir(t)
  let wal = await Wal.open({ dir })
  await wal.append({ shard: 1, entries: entries(1, 1, 10, 1) })
  await wal.append({ shard: 2, entries: entries(2, 1, 10, 1) })
  await wal.append({ shard: 1, truncateFrom: 6, entries: entries(1, 6, 2, 2) })
  t.same(await logOf(wal, 1), expected(1, [[1, 5, 1], [6, 7, 2]]))
  t.equal(wal.term(1, 8), undefined)
  await t.rejects(wal.readEntries(1, 8, 9), { code: 'WAL_OUT_OF_RANGE' })
  await wal.close()
  wal = await Wal.open({ dir })
  t.same(await logOf(wal, 1), expected(1, [[1, 5, 1], [6, 7, 2]]))
  t.same(await logOf(wal, 2), expected(2, [[1, 10, 1]]), 'other shards untouched')
  // A truncation without new entries is durable by itself.
  await wal.append({ shard: 2, truncateFrom: 4 })
  await wal.close()
  wal = await Wal.open({ dir })
  t.same(await logOf(wal, 2), expected(2, [[1, 3, 1]]))
  t.equal(wal.shardState(2).lastIndex, 3)
  await wal.close()
})

t.test('truncation across segment boundaries survives restart', async (t) => {
  const dir = await tempDir(t)
  let wal = await Wal.open({ dir, segmentBytesMax: 2048 })
  for (let i = 0; i < 10; i++) await wal.append({ shard: 4, entries: entries(4, i * 5 + 1, 5, 1) })
  t.ok(wal.stats().segments >= 3, `segments=${wal.stats().segments}`)
  await wal.append({ shard: 4, truncateFrom: 12, entries: entries(4, 12, 3, 3) })
  await wal.append({ shard: 4, truncateFrom: 14, entries: entries(4, 14, 4, 4) })
  await wal.close()
  wal = await Wal.open({ dir, segmentBytesMax: 2048 })
  t.same(await logOf(wal, 4), expected(4, [[1, 11, 1], [12, 13, 3], [14, 17, 4]]))
  t.equal(wal.shardState(4).lastTerm, 4)
  await wal.close()
})

t.test('a snapshot installed past the log discards it and the log continues after the snapshot', async (t) => {
  const dir = await tempDir(t)
  let wal = await Wal.open({ dir })
  await wal.append({ shard: 1, entries: entries(1, 1, 5, 1) })
  await wal.append({ shard: 1, snapshot: { index: 20, term: 3 }, entries: entries(1, 21, 2, 3) })
  const check = async (w: Wal) => {
    t.same(w.shardState(1), {
      shard: 1,
      snapshotIndex: 20,
      snapshotTerm: 3,
      firstIndex: 21,
      lastIndex: 22,
      lastTerm: 3,
      hardState: undefined,
    })
    await t.rejects(w.readEntries(1, 5, 6), { code: 'WAL_COMPACTED' })
    t.same(await logOf(w, 1), expected(1, [[21, 22, 3]]))
  }
  await check(wal)
  await wal.close()
  wal = await Wal.open({ dir })
  await check(wal)
  await wal.close()
})

t.test('indexes and terms beyond 2^32 round-trip through the files', async (t) => {
  const dir = await tempDir(t)
  const base = 2 ** 45
  let wal = await Wal.open({ dir })
  await wal.append({
    shard: 2 ** 31,
    snapshot: { index: base, term: 2 ** 33 },
    entries: entries(2 ** 31, base + 1, 3, 2 ** 33 + 1),
    hardState: { term: 2 ** 33 + 1, vote: 2 ** 40, commit: Number.MAX_SAFE_INTEGER },
  })
  await wal.close()
  wal = await Wal.open({ dir })
  t.same(wal.shardState(2 ** 31), {
    shard: 2 ** 31,
    snapshotIndex: base,
    snapshotTerm: 2 ** 33,
    firstIndex: base + 1,
    lastIndex: base + 3,
    lastTerm: 2 ** 33 + 1,
    hardState: { term: 2 ** 33 + 1, vote: 2 ** 40, commit: Number.MAX_SAFE_INTEGER },
  })
  t.same(await logOf(wal, 2 ** 31), expected(2 ** 31, [[base + 1, base + 3, 2 ** 33 + 1]]))
  await wal.close()
})
