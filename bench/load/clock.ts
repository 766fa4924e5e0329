// Time as the load drivers see it. The real clock is performance.now() and
// setTimeout; tests pass a fake one so that schedules can be checked without
// timed assertions.

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  nowMs(): number
  /** Resolves once at least `ms` have passed. */
  sleepMs(ms: number): Promise<void>
}

export const realClock: Clock = {
  nowMs: () => performance.now(),
  sleepMs: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
}
