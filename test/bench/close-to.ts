// hdr histograms report values to a fixed number of significant digits
// (the recorder's totals: 3, per-second buckets: 2), so latencies are
// compared within that precision.

/** True when `actual` is within `relative` of `expected` (plus 1 µs for rounding to whole microseconds). */
export function closeTo(actual: number, expected: number, relative: number): boolean {
  return Math.abs(actual - expected) <= Math.abs(expected) * relative + 0.001
}

export const TOTAL_PRECISION = 0.001
export const SECOND_PRECISION = 0.01
