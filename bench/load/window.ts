// The time window of a run: operations start from `startMs`; those in
// [measureFromMs, endMs) are measured (the time before is warm-up).

export interface RunWindow {
  startMs: number
  measureFromMs: number
  endMs: number
}

export function runWindow(nowMs: number, warmupMs: number, durationMs: number): RunWindow {
  return { startMs: nowMs, measureFromMs: nowMs + warmupMs, endMs: nowMs + warmupMs + durationMs }
}

/** Whole seconds of measurement, at least 1: the number of one-second buckets. */
export function measuredSeconds(window: RunWindow): number {
  // Rounded to whole microseconds first: on fractional clocks end − start can come out as 15000.000000002 ms.
  return Math.max(1, Math.ceil(Math.round((window.endMs - window.measureFromMs) * 1000) / 1_000_000))
}
