// A closed-loop load: `concurrency` loops each run `operation` back to back
// for `durationMs` after a warm-up; latencies go to an hdr histogram (µs).
import { createLatencyHistogram, summarize, type LatencySummary } from './report.js'

export interface LoopResult extends LatencySummary {
  opsPerSec: number
  operations: number
  errors: number
}

/** `operation` returns how many logical operations it performed (e.g. a batch of 100 sends). */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  operation: (loop: number, n: number) => Promise<number>,
  warmupMs = 500,
): Promise<LoopResult> {
  const histogram = createLatencyHistogram()
  const measureFrom = performance.now() + warmupMs
  const end = measureFrom + durationMs
  let operations = 0
  let errors = 0
  let sequence = 0
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (;;) {
        const started = performance.now()
        if (started >= end) return
        let done = 0
        try {
          done = await operation(loop, sequence++)
        } catch {
          errors++
        }
        const finished = performance.now()
        if (started >= measureFrom && finished <= end) {
          operations += done
          histogram.recordValue(Math.max(1, Math.round((finished - started) * 1000)))
        }
      }
    }),
  )
  const result = { ...summarize(histogram), opsPerSec: operations / (durationMs / 1000), operations, errors }
  histogram.destroy()
  return result
}
