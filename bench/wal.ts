// `npm run bench -- wal [--json] [--seconds 5] [--baseline-seconds 3] [--appenders 64]
//  [--record-bytes 100] [--sync always|none]`
//
// Group commit of the shared WAL: `appenders` shards each append one record at a time
// (waiting for durability before the next), against the baseline of one write plus one
// fdatasync per record, measured in the same run on the same disk. The baseline uses
// the synchronous calls, its fastest form in Node (no thread-pool hop per call); the
// same loop with the async API (which the WAL uses) is shown next to it.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs'
import { fdatasync, writeAllAt } from '../src/wal/fs-io.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wal } from '../src/wal/index.js'
import { encodeEntry, RECORD_HEADER_BYTES } from '../src/wal/record-codec.js'
import { createLatencyHistogram, formatTable, summarize, type BenchMain, type BenchResult, type Measurement } from './lib/report.js'

const WARMUP_MS = 500

function numberOption(options: Map<string, string | true>, name: string, fallback: number): number {
  const raw = options.get(name)
  if (raw === undefined || raw === true) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

type BaselineMode = 'sync' | 'async' | 'preallocated'

async function measureBaseline(dir: string, seconds: number, recordBytes: number, io: BaselineMode): Promise<Measurement> {
  const fd = openSync(join(dir, `baseline-${io}.log`), 'w')
  if (io === 'preallocated') {
    // Zeros well past what the run can write, synced before measuring.
    const zeros = Buffer.alloc(1 << 20)
    for (let i = 0; i < 32; i++) writeSync(fd, zeros, 0, zeros.byteLength, i * zeros.byteLength)
    fdatasyncSync(fd)
  }
  const histogram = createLatencyHistogram()
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
      if (io !== 'async') {
        writeSync(fd, record, 0, record.byteLength, position)
        fdatasyncSync(fd)
      } else {
        await writeAllAt(fd, [record], position)
        await fdatasync(fd)
      }
      position += record.byteLength
      if (start >= warmupEnd) {
        histogram.recordValue(Math.max(1, Math.round((performance.now() - start) * 1000)))
        records++
      }
      // Let timers and I/O callbacks run now and then; the loop itself is bounded by `end`.
      if (io !== 'async' && index % 256 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    closeSync(fd)
  }
  const name = {
    sync: 'baseline: write + fdatasync per record',
    async: '  same, async fs API',
    preallocated: '  same, into a preallocated file',
  }[io]
  return { name, opsPerSec: records / seconds, ...summarize(histogram) }
}

async function measureWal(
  dir: string,
  seconds: number,
  appenders: number,
  recordBytes: number,
  sync: 'always' | 'none',
): Promise<{ measurement: Measurement; recordsPerBatch: number; fdatasync: Measurement }> {
  const syncHistogram = createLatencyHistogram()
  let measuring = false
  const wal = await Wal.open({
    dir: join(dir, 'wal'),
    sync,
    onBatch: (report) => {
      if (measuring) syncHistogram.recordValue(Math.max(1, Math.round(report.syncMs * 1000)))
    },
  })
  const histogram = createLatencyHistogram()
  const payload = Buffer.alloc(recordBytes, 7)
  let records = 0
  const warmupEnd = performance.now() + WARMUP_MS
  const end = warmupEnd + seconds * 1000
  let batchesAtStart = 0
  let recordsAtStart = 0
  const warmupTimer = setTimeout(() => {
    measuring = true
    batchesAtStart = wal.stats().batches
    recordsAtStart = wal.stats().recordsWritten
  }, WARMUP_MS)
  const appender = async (shard: number) => {
    for (let index = 1; ; index++) {
      const start = performance.now()
      if (start >= end) return
      await wal.append({ shard, entries: [{ index, term: 1, kind: 0, payload }] })
      if (start >= warmupEnd) {
        histogram.recordValue(Math.max(1, Math.round((performance.now() - start) * 1000)))
        records++
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: appenders }, (_, shard) => appender(shard)))
  } finally {
    clearTimeout(warmupTimer)
  }
  measuring = false
  const stats = wal.stats()
  await wal.close()
  const recordsPerBatch = (stats.recordsWritten - recordsAtStart) / Math.max(1, stats.batches - batchesAtStart)
  return {
    measurement: { name: `wal group commit (${appenders} shards, sync ${sync})`, opsPerSec: records / seconds, ...summarize(histogram) },
    recordsPerBatch,
    fdatasync: { name: '  of which: fdatasync per batch', opsPerSec: stats.batches / (seconds + WARMUP_MS / 1000), ...summarize(syncHistogram) },
  }
}

export const main: BenchMain = async (args) => {
  const seconds = numberOption(args.options, 'seconds', 5)
  const baselineSeconds = numberOption(args.options, 'baseline-seconds', 3)
  const appenders = Math.round(numberOption(args.options, 'appenders', 64))
  const recordBytes = Math.round(numberOption(args.options, 'record-bytes', 100))
  const syncOption = args.options.get('sync') ?? 'always'
  if (syncOption !== 'always' && syncOption !== 'none') throw new Error('--sync must be always or none')
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-wal-'))
  try {
    const baseline = await measureBaseline(dir, baselineSeconds, recordBytes, 'sync')
    const asyncBaseline = await measureBaseline(dir, Math.min(2, baselineSeconds), recordBytes, 'async')
    const preallocatedBaseline = await measureBaseline(dir, Math.min(2, baselineSeconds), recordBytes, 'preallocated')
    const { measurement, recordsPerBatch, fdatasync } = await measureWal(dir, seconds, appenders, recordBytes, syncOption)
    const speedup = measurement.opsPerSec / baseline.opsPerSec
    if (!args.json) {
      process.stdout.write(`${formatTable([measurement, fdatasync, baseline, asyncBaseline, preallocatedBaseline])}\n`)
      process.stdout.write(
        `speedup ${speedup.toFixed(1)}x, ${recordsPerBatch.toFixed(1)} records per batch (one writev + one fdatasync), ` +
          `${recordBytes}-byte payloads (${RECORD_HEADER_BYTES + recordBytes} bytes on disk)\n`,
      )
    }
    const result: BenchResult = {
      bench: 'wal',
      opsPerSec: Math.round(measurement.opsPerSec),
      p50Ms: measurement.p50Ms,
      p99Ms: measurement.p99Ms,
      p999Ms: measurement.p999Ms,
      maxMs: measurement.maxMs,
      baseline: { ...baseline, opsPerSec: Math.round(baseline.opsPerSec) },
      asyncBaseline: { ...asyncBaseline, name: 'write + fdatasync per record, async fs API', opsPerSec: Math.round(asyncBaseline.opsPerSec) },
      preallocatedBaseline: {
        ...preallocatedBaseline,
        name: 'write + fdatasync per record, preallocated file',
        opsPerSec: Math.round(preallocatedBaseline.opsPerSec),
      },
      speedup: Number(speedup.toFixed(2)),
      recordsPerBatch: Number(recordsPerBatch.toFixed(1)),
      fdatasyncPerBatch: { p50Ms: fdatasync.p50Ms, p99Ms: fdatasync.p99Ms, p999Ms: fdatasync.p999Ms, maxMs: fdatasync.maxMs },
      appenders,
      recordBytes,
      sync: syncOption,
      seconds,
    }
    return result
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
