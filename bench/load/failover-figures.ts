// The figures of a failover run, from its one-second buckets: the throughput
// before the kill, how long it stayed down, when it came back.
import type { SecondFigures } from './second-buckets.js'

export interface FailoverFigures {
  /** Median ops/s over the whole seconds before the kill (the first second left out: connections still opening). */
  baselineOpsPerSec: number
  /** Whole seconds from the kill's second on, in a row, below half the baseline. */
  dipSeconds: number
  /** From the kill to the start of the first whole second back at ≥ 80% of the baseline after the dip; undefined when it never came back. */
  recoverySeconds: number | undefined
  /** The same, measured from the restart. */
  recoveryAfterRestartSeconds: number | undefined
  /** Lowest ops/s in a second after the kill. */
  minOpsPerSecAfterKill: number
  /** Highest per-second p99 after the kill. */
  maxP99MsAfterKill: number
  /** Errors from the kill's second on. */
  errorsAfterKill: number
}

export const DIP_FRACTION = 0.5
export const RECOVERED_FRACTION = 0.8

function median(values: number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** How far after an event a dip may start and still be the event's. */
const DIP_START_WINDOW_SEC = 2

/**
 * Seconds from `atSec` to the start of the first whole second back at
 * ≥ threshold after the dip the event caused; 0 when no second from the
 * event's on (within DIP_START_WINDOW_SEC) fell below it; undefined when
 * the run ended still below it.
 */
function recoveryFrom(series: SecondFigures[], atSec: number, threshold: number): number | undefined {
  const start = Math.floor(atSec)
  const firstLow = series.find((b) => b.second >= start && b.second <= start + DIP_START_WINDOW_SEC && b.ops < threshold)
  if (firstLow === undefined) return 0
  const back = series.find((b) => b.second > firstLow.second && b.ops >= threshold)
  return back === undefined ? undefined : Math.round((back.second - atSec) * 100) / 100
}

export function failoverFigures(series: SecondFigures[], killAtSec: number, restartAtSec: number | undefined): FailoverFigures {
  const killSecond = Math.floor(killAtSec)
  const before = series.filter((b) => b.second >= 1 && b.second < killSecond).map((b) => b.ops)
  const baseline = median(before.length > 0 ? before : series.filter((b) => b.second < killSecond).map((b) => b.ops))
  let dipSeconds = 0
  for (const bucket of series.filter((b) => b.second >= killSecond)) {
    if (bucket.ops < baseline * DIP_FRACTION) dipSeconds++
    else if (bucket.second > killSecond) break
  }
  const after = series.filter((b) => b.second >= killSecond)
  return {
    baselineOpsPerSec: baseline,
    dipSeconds,
    recoverySeconds: recoveryFrom(series, killAtSec, baseline * RECOVERED_FRACTION),
    recoveryAfterRestartSeconds: restartAtSec === undefined ? undefined : recoveryFrom(series, restartAtSec, baseline * RECOVERED_FRACTION),
    minOpsPerSecAfterKill: Math.min(...after.map((b) => b.ops)),
    maxP99MsAfterKill: Math.max(0, ...after.map((b) => b.p99Ms)),
    errorsAfterKill: after.reduce((sum, b) => sum + b.errors, 0),
  }
}
