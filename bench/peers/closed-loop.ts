// The load of every row: `clients` callers, each calling back to back (closed
// loop), a warm-up that is not counted, then a timed window. Unlike
// bench/lib/closed-loop.ts it stops early and says so when a consumer finds
// its queue empty (the rate is then taken over the time until that moment),
// and it gives up after a bounded number of errors instead of spinning on a
// broken server.
import { createLatencyHistogram, summarize, type LatencySummary } from '../lib/report.js'

export interface LoadWindow {
  clients: number
  warmupMs: number
  durationMs: number
}

export interface LoadResult extends LatencySummary {
  opsPerSec: number
  /** Logical operations counted in the window (a batch of 100 counts 100). */
  operations: number
  /** Calls that completed in the window; latencies are per call. */
  calls: number
  errors: number
  firstError?: string
  /** Milliseconds into the timed window when a caller found nothing to consume; absent when it never ran dry. */
  drainedAtMs?: number
  /** The window the rate was taken over. */
  measuredMs: number
}

/** One call; resolves how many logical operations it did, 0 meaning "nothing left to consume". */
export type Operation = (client: number, sequence: number) => Promise<number>

export const MAX_ERRORS = 100
const ERROR_PAUSE_MS = 20

export async function runClosedLoop(window: LoadWindow, operation: Operation): Promise<LoadResult> {
  const histogram = createLatencyHistogram()
  const measureFromMs = performance.now() + window.warmupMs
  const endMs = measureFromMs + window.durationMs
  let stopAtMs = endMs
  let operations = 0
  let calls = 0
  let errors = 0
  let sequence = 0
  let firstError: string | undefined
  let drainedAtMs: number | undefined

  const caller = async (client: number) => {
    while (errors < MAX_ERRORS) {
      const startedMs = performance.now()
      if (startedMs >= stopAtMs) return
      let done: number
      try {
        done = await operation(client, sequence++)
      } catch (error) {
        errors++
        firstError ??= error instanceof Error ? error.message : String(error)
        await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS))
        continue
      }
      const finishedMs = performance.now()
      if (done === 0) {
        // Ran dry: nobody starts another call; the rate covers the time until now.
        if (drainedAtMs === undefined) {
          drainedAtMs = Math.max(0, startedMs - measureFromMs)
          stopAtMs = Math.min(stopAtMs, Math.max(startedMs, measureFromMs))
        }
        return
      }
      // Completions inside the window count, whenever the call began: in a steady state that is the rate,
      // even for calls as long as a fraction of the window (batches).
      if (finishedMs >= measureFromMs && finishedMs <= stopAtMs) {
        operations += done
        calls++
        histogram.recordValue(Math.max(1, Math.round((finishedMs - startedMs) * 1000)))
      }
    }
  }
  await Promise.all(Array.from({ length: window.clients }, (_, client) => caller(client)))
  const measuredMs = Math.max(0, Math.min(stopAtMs, endMs) - measureFromMs)
  const result: LoadResult = {
    ...summarize(histogram),
    opsPerSec: measuredMs > 0 ? (operations * 1000) / measuredMs : 0,
    operations,
    calls,
    errors,
    measuredMs,
  }
  if (firstError !== undefined) result.firstError = firstError
  if (drainedAtMs !== undefined) result.drainedAtMs = drainedAtMs
  histogram.destroy()
  return result
}
