// Torn and corrupt tails: damage the files at random offsets and check that recovery
// returns exactly the records wholly before the damage, and never a damaged one.
import t from 'tap'
import fc from 'fast-check'
import { cp, readdir, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Wal } from '../../src/wal/index.js'
import { decodeRecord, type WalRecord } from '../../src/wal/record-codec.js'
import { SEGMENT_HEADER_BYTES } from '../../src/wal/segment-file.js'
import { entries, tempDir } from './helpers.js'
import { expectedOf, LogModel, observe } from './log-model.js'

const SEGMENT_BYTES_MAX = 1500

interface ParsedSegment {
  name: string
  sizeBytes: number
  records: Array<{ start: number; end: number; record: WalRecord }>
}

/** Writes a log with entries, truncations, hard states and marks over several segments. */
async function buildPristine(dir: string): Promise<void> {
  const wal = await Wal.open({ dir, segmentBytesMax: SEGMENT_BYTES_MAX })
  const last = new Map<number, number>()
  for (let round = 1; round <= 12; round++) {
    const writes = [0, 1, 2].map((shard) => {
      const from = (last.get(shard) ?? 0) + 1
      if (shard === 2 && round % 4 === 2) {
        // A truncation on its own, written as a truncate record.
        last.set(shard, from - 2)
        return wal.append({ shard, truncateFrom: from - 1 })
      }
      const truncateFrom = round % 4 === 0 && from > 3 ? from - 2 : undefined
      const start = truncateFrom ?? from
      const count = 1 + ((round + shard) % 3)
      last.set(shard, start + count - 1)
      return wal.append({
        shard,
        truncateFrom,
        entries: entries(shard, start, count, round),
        hardState: { term: round, vote: shard, commit: Math.max(0, start - 2) },
        snapshot: shard === 0 && round % 5 === 0 ? { index: start - 2, term: round - 1 } : undefined,
      })
    })
    await Promise.all(writes)
  }
  await wal.close()
}

async function parse(dir: string): Promise<ParsedSegment[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort()
  const segments: ParsedSegment[] = []
  for (const name of names) {
    const buf = await readFile(join(dir, name))
    const records: ParsedSegment['records'] = []
    for (let at = SEGMENT_HEADER_BYTES; at < buf.byteLength; ) {
      const result = decodeRecord(buf, at, buf.byteLength, 1 << 20)
      if (result.status !== 'ok') {
        // Only the preallocated zeros may follow the last record.
        if (buf.subarray(at).every((b) => b === 0)) break
        throw new Error(`pristine log does not parse at ${name}:${at}`)
      }
      records.push({ start: at, end: at + result.sizeBytes, record: { ...result.record } })
      at += result.sizeBytes
    }
    segments.push({ name, sizeBytes: buf.byteLength, records })
  }
  return segments
}

/** The model after replaying every record that ends at or before `cut` in segment `damaged`. */
function modelBefore(segments: ParsedSegment[], damaged: number, cut: number): LogModel {
  const model = new LogModel()
  for (let i = 0; i < damaged; i++) for (const r of segments[i]!.records) model.applyRecord(r.record)
  if (cut >= SEGMENT_HEADER_BYTES) {
    for (const r of segments[damaged]!.records) if (r.end <= cut) model.applyRecord(r.record)
  }
  return model
}

async function checkRecovery(
  t: { same: (found: unknown, wanted: unknown, message: string) => boolean },
  dir: string,
  model: LogModel,
): Promise<boolean> {
  const wal = await Wal.open({ dir, segmentBytesMax: SEGMENT_BYTES_MAX, sync: 'none' })
  try {
    const shards = new Set([...wal.shards(), ...model.shards.keys()])
    for (const shard of shards) {
      const got = await observe(wal, shard)
      const want = expectedOf(model, shard)
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.same(got, want, `shard ${shard}`)
        return false
      }
    }
    return true
  } finally {
    await wal.close()
  }
}

t.test('damaged logs recover exactly the records before the damage', async (t) => {
  const pristine = await tempDir(t)
  await buildPristine(pristine)
  const segments = await parse(pristine)
  t.ok(segments.length >= 3, `the pristine log spans ${segments.length} segments`)
  const types = new Set(segments.flatMap((s) => s.records.map((r) => r.record.type)))
  t.same([...types].sort(), ['entry', 'hardState', 'snapshotMark', 'truncate'], 'every record type is in the log')
  const work = await tempDir(t)
  let runs = 0

  // A torn tail: the last segment cut at any offset.
  const lastSegment = segments.length - 1
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: segments[lastSegment]!.sizeBytes }), async (cut) => {
      const dir = join(work, `run-${runs++}`)
      await cp(pristine, dir, { recursive: true })
      await truncate(join(dir, segments[lastSegment]!.name), cut)
      return checkRecovery(t, dir, modelBefore(segments, lastSegment, cut))
    }),
    { numRuns: 60 },
  )

  // A flipped byte anywhere: recovery stops at the record that holds it.
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: segments.length - 1 }).chain((segment) =>
        fc.tuple(fc.constant(segment), fc.integer({ min: 0, max: segments[segment]!.sizeBytes - 1 }), fc.integer({ min: 1, max: 255 })),
      ),
      async ([segment, offset, mask]) => {
        const dir = join(work, `run-${runs++}`)
        await cp(pristine, dir, { recursive: true })
        const path = join(dir, segments[segment]!.name)
        const buf = await readFile(path)
        buf[offset]! ^= mask
        await writeFile(path, buf)
        return checkRecovery(t, dir, modelBefore(segments, segment, offset))
      },
    ),
    { numRuns: 120 },
  )
})

t.test('recovery truncates the file at the damage and later segments are set aside', async (t) => {
  const dir = await tempDir(t)
  await buildPristine(dir)
  const segments = await parse(dir)
  const victim = segments[1]!
  const record = victim.records[Math.floor(victim.records.length / 2)]!
  const path = join(dir, victim.name)
  const buf = await readFile(path)
  buf[record.end - 1]! ^= 0xff
  await writeFile(path, buf)
  const wal = await Wal.open({ dir, segmentBytesMax: SEGMENT_BYTES_MAX })
  t.same(wal.recovery.stoppedAt, { file: victim.name, offsetBytes: record.start, reason: 'CRC mismatch' })
  t.same(wal.recovery.quarantined, segments.slice(2).map((s) => s.name))
  await wal.close()
  t.equal((await readFile(path)).byteLength, record.start, 'the damaged segment ends where its last good record ends')
  const files = await readdir(dir)
  for (const s of segments.slice(2)) {
    t.ok(files.some((f) => f.startsWith(`${s.name}.corrupt-`)), `${s.name} is kept aside for inspection`)
  }
  // The log continues in a fresh segment numbered after the truncated one.
  const reopened = await Wal.open({ dir, segmentBytesMax: SEGMENT_BYTES_MAX })
  t.equal(reopened.recovery.stoppedAt, undefined, 'the repaired log recovers cleanly')
  await reopened.close()
})
