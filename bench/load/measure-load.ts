// One measured run of a scenario over a transport: setup, warm-up, the
// closed or open loop with the live progress line, teardown. Node processes
// are the caller's business (bench/load.ts, bench/failover.ts).
import { realClock, type Clock } from './clock.js'
import { runClosedLoop } from './closed-loop-driver.js'
import { LoadRecorder, type RecordedRun } from './load-recorder.js'
import type { LoopMode } from './load-settings.js'
import { runOpenLoop } from './open-loop-driver.js'
import { ProgressLine, type ProgressOutput } from './progress-line.js'
import type { Scenario } from './scenario.js'
import type { Transport } from './transport.js'
import { measuredSeconds, runWindow, type RunWindow } from './window.js'

export interface MeasureOptions {
  scenario: Scenario
  transport: Transport
  mode: LoopMode
  /** Closed loop: workers. Open loop: the cap on requests in flight. */
  concurrency: number
  /** Open loop only. */
  ratePerSec: number
  warmupMs: number
  durationMs: number
  errorBackoffMs: number
  /** Where the live progress line goes; none when undefined. */
  progress: ProgressOutput | undefined
  log(line: string): void
  /** Called once the run's window is fixed, before the first operation (failover schedules its kill from it). */
  onWindow?(window: RunWindow): void
  clock?: Clock
}

/** Requests setup may have in flight at once (creating keys, pre-filling). */
const SETUP_PARALLELISM = 8

export interface MeasuredRun extends RecordedRun {
  seconds: number
  opsPerSec: number
  itemsPerSec: number
  /** Requests issued, warm-up included. */
  issued: number
  /** Open loop: the most requests in flight at once. */
  maxInFlight?: number
  /** CPU time of this (load generator) process over the run, as a percentage of one core. */
  clientCpuPercent: number
  scenarioStats: Record<string, number>
}

export async function measureLoad(options: MeasureOptions): Promise<MeasuredRun> {
  const { scenario, transport } = options
  const clock = options.clock ?? realClock
  const clients = Array.from({ length: options.concurrency }, (_, worker) => transport.client(worker))
  await scenario.setup(clients.slice(0, SETUP_PARALLELISM), options.log)

  const window = runWindow(clock.nowMs(), options.warmupMs, options.durationMs)
  const seconds = measuredSeconds(window)
  const recorder = new LoadRecorder(window.measureFromMs, seconds, scenario.kinds)
  options.onWindow?.(window)
  const progress = options.progress ? new ProgressLine(recorder.buckets, options.progress) : undefined
  progress?.start()
  const cpuBefore = process.cpuUsage()
  let issued: number
  let maxInFlight: number | undefined
  try {
    if (options.mode === 'closed') {
      const counts = await runClosedLoop({
        concurrency: options.concurrency,
        window,
        clock,
        recorder,
        errorBackoffMs: options.errorBackoffMs,
        operate: (worker, sequence) => scenario.operate(clients[worker]!, sequence),
      })
      issued = counts.issued
    } else {
      const counts = await runOpenLoop({
        ratePerSec: options.ratePerSec,
        maxOutstanding: options.concurrency,
        window,
        clock,
        recorder,
        operate: (sequence) => scenario.operate(clients[sequence % clients.length]!, sequence),
      })
      issued = counts.issued
      maxInFlight = counts.maxInFlight
    }
  } finally {
    progress?.stop()
  }
  const cpu = process.cpuUsage(cpuBefore)
  const wallMs = Math.max(1, clock.nowMs() - window.startMs)
  try {
    await scenario.teardown(clients[0]!)
  } catch (error) {
    options.log(`teardown failed (left in place): ${(error as Error).message}`)
  }
  const recorded = recorder.result()
  const measuredSec = options.durationMs / 1000
  return {
    ...recorded,
    seconds,
    opsPerSec: recorded.ops / measuredSec,
    itemsPerSec: recorded.items / measuredSec,
    issued,
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
    clientCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    scenarioStats: scenario.stats(),
  }
}
