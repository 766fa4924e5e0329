// Fixed-bucket distributions of what the WAL measures per batch (fsync
// latency, records, bytes), cheap enough to update on every batch and small
// enough to send across threads in a stats answer. Exporters turn them into
// Prometheus histograms.

/** A distribution: `counts[i]` values were ≤ `upperBounds[i]` (and above the previous bound); the last count is above every bound. */
export interface BucketCounts {
  upperBounds: readonly number[]
  /** One more entry than `upperBounds`: the last holds values above the highest bound. */
  counts: number[]
  /** Sum of every observed value. */
  sum: number
  /** Number of observed values (the sum of `counts`). */
  count: number
}

export class BucketCounter {
  private readonly counts: number[]
  private sum = 0
  private count = 0

  constructor(private readonly upperBounds: readonly number[]) {
    for (let i = 1; i < upperBounds.length; i++) {
      if (!(upperBounds[i]! > upperBounds[i - 1]!)) throw new RangeError('bucket bounds must increase strictly')
    }
    this.counts = new Array<number>(upperBounds.length + 1).fill(0)
  }

  observe(value: number): void {
    let bucket = 0
    while (bucket < this.upperBounds.length && value > this.upperBounds[bucket]!) bucket++
    this.counts[bucket]!++
    this.sum += value
    this.count++
  }

  /** A copy: later observations do not change it. */
  snapshot(): BucketCounts {
    return { upperBounds: this.upperBounds, counts: [...this.counts], sum: this.sum, count: this.count }
  }
}

/** Bounds from `first`, each `factor` times the previous, `count` of them. */
export function exponentialBounds(first: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first * factor ** i)
}

/** fdatasync latency, ms: 0.125 ms to 1 s. */
export const FSYNC_MS_BOUNDS = exponentialBounds(0.125, 2, 14)
/** Records per batch: 1 to 4096. */
export const BATCH_RECORDS_BOUNDS = exponentialBounds(1, 2, 13)
/** Bytes per batch: 256 B to 16 MiB. */
export const BATCH_BYTES_BOUNDS = exponentialBounds(256, 4, 9)
