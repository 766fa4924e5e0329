// Open loop: requests are issued on a fixed schedule, request k at
// startMs + k / rate, whether or not earlier ones have answered. Latency is
// charged from the scheduled time, not from when the request actually left,
// so a stall that delays sending is counted in full (no coordinated
// omission). At most `maxOutstanding` requests are in flight; a request due
// while the cap is reached is not sent and is counted as dropped.
import type { Clock } from './clock.js'
import { errorTally } from './load-error.js'
import type { LoadRecorder } from './load-recorder.js'
import type { OperationResult } from './scenario.js'
import type { RunWindow } from './window.js'

export interface OpenLoopOptions {
  ratePerSec: number
  maxOutstanding: number
  window: RunWindow
  clock: Clock
  recorder: LoadRecorder
  /** Operation number `sequence`, scheduled at `dueMs`. */
  operate(sequence: number, dueMs: number): Promise<OperationResult>
}

export interface OpenLoopCounts {
  /** Requests sent, warm-up included. */
  issued: number
  /** Requests not sent because `maxOutstanding` were in flight, warm-up included. */
  dropped: number
  /** The largest number in flight at once. */
  maxInFlight: number
}

/** Largest rate accepted: beyond it the schedule's resolution (1 ms timers) and one process cannot follow. */
export const MAX_OPEN_LOOP_RATE_PER_SEC = 1_000_000

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopCounts> {
  const { window, clock, recorder, ratePerSec } = options
  if (!(ratePerSec > 0 && ratePerSec <= MAX_OPEN_LOOP_RATE_PER_SEC)) throw new RangeError(`rate must be in (0, ${MAX_OPEN_LOOP_RATE_PER_SEC}], got ${ratePerSec}`)
  if (!(Number.isInteger(options.maxOutstanding) && options.maxOutstanding >= 1)) throw new RangeError(`maxOutstanding must be a positive integer, got ${options.maxOutstanding}`)
  const intervalMs = 1000 / ratePerSec
  const dueOf = (k: number) => window.startMs + k * intervalMs
  let inFlight = 0
  let maxInFlight = 0
  let issued = 0
  let dropped = 0
  let allAnswered: (() => void) | undefined

  const issue = (sequence: number, dueMs: number) => {
    const measured = dueMs >= window.measureFromMs
    if (inFlight >= options.maxOutstanding) {
      dropped++
      if (measured) recorder.drop(dueMs)
      return
    }
    inFlight++
    issued++
    maxInFlight = Math.max(maxInFlight, inFlight)
    options.operate(sequence, dueMs).then(
      (result) => {
        const finishedMs = clock.nowMs()
        if (measured) recorder.success(result.kind, result.items, finishedMs - dueMs, finishedMs)
      },
      (error: unknown) => {
        if (measured) recorder.failure(errorTally(error), clock.nowMs())
      },
    ).finally(() => {
      if (--inFlight === 0) allAnswered?.()
    })
  }

  // The schedule is finite (rate × window), so this loop is bounded; each
  // pass either sleeps until the next due time or issues everything due.
  let next = 0
  for (;;) {
    const dueMs = dueOf(next)
    if (dueMs >= window.endMs) break
    const nowMs = clock.nowMs()
    if (dueMs > nowMs) {
      await clock.sleepMs(dueMs - nowMs)
      continue
    }
    for (let due = dueOf(next); due <= nowMs && due < window.endMs; due = dueOf(next)) issue(next++, due)
  }
  if (inFlight > 0) await new Promise<void>((resolve) => (allAnswered = resolve))
  return { issued, dropped, maxInFlight }
}
