// One-second buckets of a run: operations, items, errors, dropped requests
// and latency per second, by the time an operation finished (a drop, by the
// time it was due). Second 0 starts at `startMs`, the start of measurement.
import * as hdr from 'hdr-histogram-js'

export interface SecondFigures {
  /** Seconds since the start of measurement: this bucket covers [second, second + 1). */
  second: number
  ops: number
  items: number
  errors: number
  dropped: number
  /** Latency of the operations that finished in this second; 0 when none did. */
  p50Ms: number
  p99Ms: number
  maxMs: number
}

interface Bucket {
  ops: number
  items: number
  errors: number
  dropped: number
  histogram: hdr.Histogram
}

/**
 * A small histogram per second: 2 significant digits are plenty for a
 * per-second p99 and keep a long run's buckets to ~10 KB each.
 */
function secondHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2, useWebAssembly: false })
}

export class SecondBuckets {
  private readonly buckets: Bucket[]

  /** `seconds` buckets from `startMs`; events outside them are not bucketed (the caller's totals still count them). */
  constructor(
    readonly startMs: number,
    readonly seconds: number,
  ) {
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new RangeError(`seconds must be an integer in 1..86400, got ${seconds}`)
    this.buckets = Array.from({ length: seconds }, () => ({ ops: 0, items: 0, errors: 0, dropped: 0, histogram: secondHistogram() }))
  }

  /** The bucket index of a time, or -1 when it falls outside the buckets. */
  indexOf(atMs: number): number {
    const index = Math.floor((atMs - this.startMs) / 1000)
    return index >= 0 && index < this.seconds ? index : -1
  }

  success(finishedMs: number, latencyMs: number, items: number): void {
    const bucket = this.buckets[this.indexOf(finishedMs)]
    if (bucket === undefined) return
    bucket.ops++
    bucket.items += items
    bucket.histogram.recordValue(toMicros(latencyMs))
  }

  failure(finishedMs: number): void {
    const bucket = this.buckets[this.indexOf(finishedMs)]
    if (bucket !== undefined) bucket.errors++
  }

  drop(dueMs: number): void {
    const bucket = this.buckets[this.indexOf(dueMs)]
    if (bucket !== undefined) bucket.dropped++
  }

  figures(index: number): SecondFigures {
    const bucket = this.buckets[index]
    if (bucket === undefined) throw new RangeError(`no bucket ${index} (0..${this.seconds - 1})`)
    const ms = (us: number) => Math.round(us) / 1000
    const empty = bucket.histogram.totalCount === 0
    return {
      second: index,
      ops: bucket.ops,
      items: bucket.items,
      errors: bucket.errors,
      dropped: bucket.dropped,
      p50Ms: empty ? 0 : ms(bucket.histogram.getValueAtPercentile(50)),
      p99Ms: empty ? 0 : ms(bucket.histogram.getValueAtPercentile(99)),
      maxMs: empty ? 0 : ms(bucket.histogram.maxValue),
    }
  }

  /** Every bucket, second 0 first. */
  series(): SecondFigures[] {
    return this.buckets.map((_, index) => this.figures(index))
  }
}

/** Latency in whole microseconds, at least 1 and at most the histograms' range. */
export function toMicros(latencyMs: number): number {
  return Math.min(60_000_000, Math.max(1, Math.round(latencyMs * 1000)))
}
