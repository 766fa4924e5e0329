// Everything a run measures: latency per operation kind and overall
// (hdr-histogram-js through bench/lib/report.ts), error tallies, dropped
// requests, and the one-second buckets. Drivers decide which operations fall
// in the measurement window; the recorder counts what it is given.
import type * as hdr from 'hdr-histogram-js'
import { createLatencyHistogram, summarize, type LatencySummary } from '../lib/report.js'
import { SecondBuckets, toMicros, type SecondFigures } from './second-buckets.js'

export interface KindSummary extends LatencySummary {
  kind: string
  ops: number
  items: number
}

export interface RecordedRun extends LatencySummary {
  ops: number
  items: number
  errors: number
  dropped: number
  errorsByCode: Record<string, number>
  kinds: KindSummary[]
  series: SecondFigures[]
}

/**
 * hdr reports a percentile as the highest value equivalent to its bucket,
 * which can exceed the exact maximum by the histogram's precision; a
 * percentile above the maximum would read as nonsense.
 */
function summary(histogram: hdr.Histogram): LatencySummary {
  const s = summarize(histogram)
  return { p50Ms: Math.min(s.p50Ms, s.maxMs), p99Ms: Math.min(s.p99Ms, s.maxMs), p999Ms: Math.min(s.p999Ms, s.maxMs), maxMs: s.maxMs }
}

/** Distinct error labels kept; further ones are counted under OTHER. */
const MAX_ERROR_LABELS = 32

export class LoadRecorder {
  readonly buckets: SecondBuckets
  private readonly total = createLatencyHistogram()
  private readonly byKind = new Map<string, { histogram: hdr.Histogram; ops: number; items: number }>()
  private items = 0
  private errors = 0
  private dropped = 0
  private readonly errorsByCode = new Map<string, number>()

  constructor(startMs: number, seconds: number, kinds: readonly string[] = []) {
    this.buckets = new SecondBuckets(startMs, seconds)
    for (const kind of kinds) this.kind(kind)
  }

  success(kind: string, items: number, latencyMs: number, finishedMs: number): void {
    const micros = toMicros(latencyMs)
    this.total.recordValue(micros)
    const entry = this.kind(kind)
    entry.histogram.recordValue(micros)
    entry.ops++
    entry.items += items
    this.items += items
    this.buckets.success(finishedMs, latencyMs, items)
  }

  failure(tally: string, finishedMs: number): void {
    this.errors++
    const label = this.errorsByCode.has(tally) || this.errorsByCode.size < MAX_ERROR_LABELS ? tally : 'OTHER'
    this.errorsByCode.set(label, (this.errorsByCode.get(label) ?? 0) + 1)
    this.buckets.failure(finishedMs)
  }

  /** A request the open loop did not issue because too many were outstanding. */
  drop(dueMs: number): void {
    this.dropped++
    this.buckets.drop(dueMs)
  }

  result(): RecordedRun {
    const kinds = [...this.byKind.entries()].map(([kind, entry]) => ({ kind, ops: entry.ops, items: entry.items, ...summary(entry.histogram) }))
    return {
      ops: this.total.totalCount,
      items: this.items,
      errors: this.errors,
      dropped: this.dropped,
      errorsByCode: Object.fromEntries(this.errorsByCode),
      ...summary(this.total),
      kinds,
      series: this.buckets.series(),
    }
  }

  private kind(kind: string) {
    let entry = this.byKind.get(kind)
    if (entry === undefined) {
      entry = { histogram: createLatencyHistogram(), ops: 0, items: 0 }
      this.byKind.set(kind, entry)
    }
    return entry
  }
}
