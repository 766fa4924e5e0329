// Closed loop: `concurrency` workers, each issuing its next operation as
// soon as the previous one answered. Throughput is whatever the system
// sustains at that concurrency; latency is measured from the moment each
// request was sent, so a stall shows as fewer operations rather than as
// longer latencies (the coordinated omission that the open loop avoids).
import type { Clock } from './clock.js'
import { errorTally } from './load-error.js'
import type { LoadRecorder } from './load-recorder.js'
import type { OperationResult } from './scenario.js'
import type { RunWindow } from './window.js'

export interface ClosedLoopOptions {
  concurrency: number
  window: RunWindow
  clock: Clock
  recorder: LoadRecorder
  /** A worker whose operation failed waits this long before its next one, so a dead node is not hammered in a tight loop. */
  errorBackoffMs: number
  /** One operation of worker `worker`; `sequence` counts operations over all workers. */
  operate(worker: number, sequence: number): Promise<OperationResult>
}

export interface ClosedLoopCounts {
  /** Operations issued, warm-up included. */
  issued: number
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopCounts> {
  const { window, clock, recorder } = options
  let sequence = 0
  const worker = async (index: number) => {
    // Bounded by time: every iteration awaits a request with a timeout or a back-off sleep.
    while (clock.nowMs() < window.endMs) {
      const startedMs = clock.nowMs()
      const measured = startedMs >= window.measureFromMs
      try {
        const result = await options.operate(index, sequence++)
        const finishedMs = clock.nowMs()
        if (measured && finishedMs <= window.endMs) recorder.success(result.kind, result.items, finishedMs - startedMs, finishedMs)
      } catch (error) {
        const finishedMs = clock.nowMs()
        if (measured && finishedMs <= window.endMs) recorder.failure(errorTally(error), finishedMs)
        await clock.sleepMs(options.errorBackoffMs)
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)))
  return { issued: sequence }
}
