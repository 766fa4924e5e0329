// A closed-loop load: `concurrency` loops each run `operation` back to back
// for `durationMs` after a warm-up; latencies go to an hdr histogram (µs).
// `cpuUsPerOp` is the CPU time of the whole process (every thread: nodes run
// in process, the SDK's worker, V8's and libuv's helpers) over the measured
// window, per operation.
import { createLatencyHistogram, summarize, type LatencySummary } from './report.js'

export interface LoopResult extends LatencySummary {
  opsPerSec: number
  operations: number
  errors: number
  /** CPU time of this process (user + system, all threads) during the measured window, per operation; µs. */
  cpuUsPerOp: number
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
  // The CPU clock is read when the window opens and when it closes, by timers
  // (a few ms late at most against windows of seconds).
  let cpuAtStart: NodeJS.CpuUsage | undefined
  let cpuInWindow: NodeJS.CpuUsage | undefined
  const openWindow = setTimeout(() => (cpuAtStart = process.cpuUsage()), warmupMs)
  const closeWindow = setTimeout(() => (cpuInWindow = process.cpuUsage(cpuAtStart)), warmupMs + durationMs)
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
  clearTimeout(openWindow)
  clearTimeout(closeWindow)
  // The loops end with the first call that starts after the window; should the timer not have fired yet, read now.
  const cpu = cpuInWindow ?? process.cpuUsage(cpuAtStart)
  const cpuUsPerOp = operations > 0 ? (cpu.user + cpu.system) / operations : 0
  const result = { ...summarize(histogram), opsPerSec: operations / (durationMs / 1000), operations, errors, cpuUsPerOp: Math.round(cpuUsPerOp * 10) / 10 }
  histogram.destroy()
  return result
}
