// A discrete-event clock for the load drivers' tests: sleeps are timers on a
// virtual time line, and run() advances time from one timer to the next, so
// schedules and latencies come out exact, without timed assertions.
import type { Clock } from '../../bench/load/clock.js'

interface Timer {
  atMs: number
  order: number
  resolve: () => void
}

export class FakeClock implements Clock {
  private now = 0
  private order = 0
  private readonly timers: Timer[] = []

  /** @param lateMs every sleep ends this much later than asked (a loaded event loop). */
  constructor(private readonly lateMs = 0) {}

  nowMs(): number {
    return this.now
  }

  sleepMs(ms: number): Promise<void> {
    return this.after(Math.max(0, ms) + this.lateMs)
  }

  /** A timer that ends exactly `ms` from now (an operation's service time), never late. */
  after(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.push({ atMs: this.now + ms, order: this.order++, resolve }))
  }

  /** Runs timers in time order until `task` settles; throws if it waits on nothing or exceeds `maxSteps`. */
  async run<T>(task: Promise<T>, maxSteps = 1_000_000): Promise<T> {
    let settled = false
    const watched = task.finally(() => (settled = true))
    for (let step = 0; step < maxSteps; step++) {
      // Let every promise chain that can move do so before time advances.
      await new Promise((resolve) => setImmediate(resolve))
      if (settled) return watched
      this.timers.sort((a, b) => a.atMs - b.atMs || a.order - b.order)
      const timer = this.timers.shift()
      if (timer === undefined) throw new Error('the task waits on nothing: it would never settle')
      this.now = Math.max(this.now, timer.atMs)
      timer.resolve()
    }
    throw new Error(`the task did not settle within ${maxSteps} timer steps`)
  }
}
