// `npm run bench -- wal [--json] [--seconds 6] [--baseline-seconds 3] [--rounds 3]
//  [--appenders 64] [--record-bytes 100] [--sync always|none]`
//
// Group commit of the shared WAL: `appenders` shards each append one record at a time
// (waiting for durability before the next), against the baseline of one write plus one
// fdatasync per record, measured in the same run on the same disk. The two alternate in
// `rounds` slices, so that both see the same background load on a shared machine.
// The baseline uses the synchronous calls, its fastest form in Node (no thread-pool hop
// per call); the same loop with the async API (which the WAL uses) and into a
// preallocated file are shown next to it, measured once each.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Histogram } from 'hdr-histogram-js'
import { fdatasync, writeAllAt } from '../src/wal/fs-io.js'
import { Wal } from '../src/wal/index.js'
import { encodeEntry, RECORD_HEADER_BYTES } from '../src/wal/record-codec.js'
import { createLatencyHistogram, formatTable, summarize, type BenchMain, type BenchResult, type Measurement, choiceOption, numberOption } from './lib/report.js'

const WARMUP_MS = 300


function recordMicros(histogram: Histogram, startMs: number): void {
  histogram.recordValue(Math.max(1, Math.round((performance.now() - startMs) * 1000)))
}

type BaselineMode = 'sync' | 'async' | 'preallocated'

/** One slice of the baseline; returns the records measured (after warm-up). */
async function runBaseline(path: string, seconds: number, recordBytes: number, io: BaselineMode, histogram: Histogram): Promise<number> {
  const fd = openSync(path, 'w')
  if (io === 'preallocated') {
    // Zeros well past what the slice can write, synced before measuring.
    const zeros = Buffer.alloc(1 << 20)
    for (let i = 0; i < 32; i++) writeSync(fd, zeros, 0, zeros.byteLength, i * zeros.byteLength)
    fdatasyncSync(fd)
  }
  const record = Buffer.alloc(RECORD_HEADER_BYTES + recordBytes)
  const payload = Buffer.alloc(recordBytes, 7)
  let position = 0
  let records = 0
  try {
    const warmupEnd = performance.now() + WARMUP_MS
    const end = warmupEnd + seconds * 1000
    for (let index = 1; ; index++) {
      const start = performance.now()
      if (start >= end) break
      encodeEntry(record, 0, 1, { index, term: 1, kind: 0, payload })
      if (io === 'async') {
        await writeAllAt(fd, [record], position)
        await fdatasync(fd)
      } else {
        writeSync(fd, record, 0, record.byteLength, position)
        fdatasyncSync(fd)
      }
      position += record.byteLength
      if (start >= warmupEnd) {
        recordMicros(histogram, start)
        records++
      }
      // Let timers and I/O callbacks run now and then; the loop itself is bounded by `end`.
      if (io !== 'async' && index % 256 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    closeSync(fd)
  }
  return records
}

interface WalSlice {
  records: number
  batches: number
}

/** One slice of the WAL run in a fresh log; returns what was measured (after warm-up). */
async function runWal(
  dir: string,
  seconds: number,
  appenders: number,
  recordBytes: number,
  sync: 'always' | 'none',
  histogram: Histogram,
  syncHistogram: Histogram,
): Promise<WalSlice> {
  let measuring = false
  let batches = 0
  const wal = await Wal.open({
    dir,
    sync,
    onBatch: (report) => {
      if (!measuring) return
      batches++
      syncHistogram.recordValue(Math.max(1, Math.round(report.syncMs * 1000)))
    },
  })
  const payload = Buffer.alloc(recordBytes, 7)
  let records = 0
  const warmupEnd = performance.now() + WARMUP_MS
  const end = warmupEnd + seconds * 1000
  const warmupTimer = setTimeout(() => (measuring = true), WARMUP_MS)
  const appender = async (shard: number) => {
    for (let index = 1; ; index++) {
      const start = performance.now()
      if (start >= end) return
      await wal.append({ shard, entries: [{ index, term: 1, kind: 0, payload }] })
      if (start >= warmupEnd) {
        recordMicros(histogram, start)
        records++
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: appenders }, (_, shard) => appender(shard)))
  } finally {
    clearTimeout(warmupTimer)
    measuring = false
    await wal.close()
  }
  return { records, batches }
}

export const main: BenchMain = async (args) => {
  const seconds = numberOption(args.options, 'seconds', 6)
  const baselineSeconds = numberOption(args.options, 'baseline-seconds', 3)
  const rounds = Math.round(numberOption(args.options, 'rounds', 3))
  const appenders = Math.round(numberOption(args.options, 'appenders', 64))
  const recordBytes = Math.round(numberOption(args.options, 'record-bytes', 100))
  const sync = choiceOption(args.options, 'sync', ['always', 'none'] as const, 'always')
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-wal-'))
  try {
    const walHistogram = createLatencyHistogram()
    const syncHistogram = createLatencyHistogram()
    const baselineHistogram = createLatencyHistogram()
    let walRecords = 0
    let walBatches = 0
    let baselineRecords = 0
    for (let round = 0; round < rounds; round++) {
      baselineRecords += await runBaseline(join(dir, `baseline-${round}.log`), baselineSeconds / rounds, recordBytes, 'sync', baselineHistogram)
      const slice = await runWal(join(dir, `wal-${round}`), seconds / rounds, appenders, recordBytes, sync, walHistogram, syncHistogram)
      walRecords += slice.records
      walBatches += slice.batches
    }
    const extraSeconds = Math.min(1, baselineSeconds / rounds)
    const asyncHistogram = createLatencyHistogram()
    const asyncRecords = await runBaseline(join(dir, 'baseline-async.log'), extraSeconds, recordBytes, 'async', asyncHistogram)
    const preallocatedHistogram = createLatencyHistogram()
    const preallocatedRecords = await runBaseline(join(dir, 'baseline-pre.log'), extraSeconds, recordBytes, 'preallocated', preallocatedHistogram)

    const measurement: Measurement = {
      name: `wal group commit (${appenders} shards, sync ${sync})`,
      opsPerSec: walRecords / seconds,
      ...summarize(walHistogram),
    }
    const fdatasyncRow: Measurement = { name: '  of which: fdatasync per batch', opsPerSec: walBatches / seconds, ...summarize(syncHistogram) }
    const baseline: Measurement = {
      name: 'baseline: write + fdatasync per record',
      opsPerSec: baselineRecords / baselineSeconds,
      ...summarize(baselineHistogram),
    }
    const asyncBaseline: Measurement = { name: '  same, async fs API', opsPerSec: asyncRecords / extraSeconds, ...summarize(asyncHistogram) }
    const preallocatedBaseline: Measurement = {
      name: '  same, into a preallocated file',
      opsPerSec: preallocatedRecords / extraSeconds,
      ...summarize(preallocatedHistogram),
    }
    const speedup = measurement.opsPerSec / baseline.opsPerSec
    const recordsPerBatch = walRecords / Math.max(1, walBatches)
    if (!args.json) {
      process.stdout.write(`${formatTable([measurement, fdatasyncRow, baseline, asyncBaseline, preallocatedBaseline])}\n`)
      process.stdout.write(
        `speedup ${speedup.toFixed(1)}x, ${recordsPerBatch.toFixed(1)} records per batch (one writev + one fdatasync), ` +
          `${recordBytes}-byte payloads (${RECORD_HEADER_BYTES + recordBytes} bytes on disk), ${rounds} alternating rounds\n`,
      )
    }
    const rounded = (m: Measurement): Measurement => ({ ...m, name: m.name.trim(), opsPerSec: Math.round(m.opsPerSec) })
    const result: BenchResult = {
      bench: 'wal',
      opsPerSec: Math.round(measurement.opsPerSec),
      p50Ms: measurement.p50Ms,
      p99Ms: measurement.p99Ms,
      p999Ms: measurement.p999Ms,
      maxMs: measurement.maxMs,
      baseline: rounded(baseline),
      speedup: Number(speedup.toFixed(2)),
      recordsPerBatch: Number(recordsPerBatch.toFixed(1)),
      fdatasyncPerBatch: { p50Ms: fdatasyncRow.p50Ms, p99Ms: fdatasyncRow.p99Ms, p999Ms: fdatasyncRow.p999Ms, maxMs: fdatasyncRow.maxMs },
      asyncBaseline: rounded({ ...asyncBaseline, name: 'write + fdatasync per record, async fs API' }),
      preallocatedBaseline: rounded({ ...preallocatedBaseline, name: 'write + fdatasync per record, preallocated file' }),
      appenders,
      recordBytes,
      sync,
      seconds,
      rounds,
    }
    return result
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
