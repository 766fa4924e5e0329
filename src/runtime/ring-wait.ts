// Waiting on one shared Int32 word without blocking the event loop.
//
// `Atomics.waitAsync` is in Node 20 but not in the ES2022 lib this project
// compiles against, so it is typed here once. Two behaviours of Node shape this
// helper:
// - a pending waitAsync does not keep the event loop alive (a process or worker
//   whose only pending work is such a wait simply exits), so by default a
//   shared ref'd timer is held while any wait of this thread is pending;
// - a waitAsync cannot be cancelled, so an AbortSignal is honoured by notifying
//   the word ourselves: every caller loops and re-checks its condition, so a
//   spurious wake-up of another waiter on the same word is harmless.

interface AtomicsWithWaitAsync {
  waitAsync(
    words: Int32Array,
    index: number,
    expected: number,
    timeoutMs?: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> }
}

const atomics = Atomics as unknown as AtomicsWithWaitAsync
if (typeof atomics.waitAsync !== 'function') {
  throw new Error('Atomics.waitAsync is required (Node.js >= 16)')
}

export interface WaitOptions {
  /** Give up after this long; undefined waits without a time limit. */
  timeoutMs?: number
  /** Ends the wait early with outcome 'aborted'. */
  signal?: AbortSignal
  /** Hold the event loop open while waiting (default true). */
  keepAlive?: boolean
  /**
   * Poll for up to this many microseconds before going to sleep (default 0,
   * capped at SPIN_MAX_MICROS). Cuts a round trip to well below the cost of a
   * cross-thread wake-up, but burns the core and holds this thread's event loop
   * for that long: only for threads with a core to themselves.
   */
  spinMicros?: number
}

export const SPIN_MAX_MICROS = 1000
// Upper bound on polls, whatever the clock does; reading the clock every 32 polls keeps it cheap.
const SPIN_MAX_POLLS = 10_000_000
const SPIN_CLOCK_EVERY_POLLS = 32

/** Polls `ready` for up to `spinMicros`; true as soon as it holds. */
export function spinUntil(ready: () => boolean, spinMicros: number | undefined): boolean {
  if (spinMicros === undefined || !(spinMicros > 0)) return false
  const deadlineMs = performance.now() + Math.min(spinMicros, SPIN_MAX_MICROS) / 1000
  for (let poll = 1; poll <= SPIN_MAX_POLLS; poll++) {
    if (ready()) return true
    if (poll % SPIN_CLOCK_EVERY_POLLS === 0 && performance.now() >= deadlineMs) return false
  }
  return false
}

/** 'changed': notified, or the word no longer held `expected`. Callers re-check their condition either way. */
export type WaitOutcome = 'changed' | 'timed-out' | 'aborted'

// Longest delay Node accepts for a timer; the timer only exists to hold a ref.
const KEEP_ALIVE_INTERVAL_MS = 2 ** 31 - 1
let keepAliveTimer: NodeJS.Timeout | undefined
let keepAliveHolders = 0

function holdEventLoop(): void {
  if (keepAliveHolders++ === 0) {
    if (keepAliveTimer === undefined) keepAliveTimer = setInterval(() => {}, KEEP_ALIVE_INTERVAL_MS)
    else keepAliveTimer.ref()
  }
}

function releaseEventLoop(): void {
  if (--keepAliveHolders === 0) keepAliveTimer?.unref()
}

/**
 * Resolves once `words[index]` is notified or differs from `expected`, or the
 * timeout or signal ends the wait. Never blocks the calling thread.
 */
export async function waitWhileEqual(
  words: Int32Array,
  index: number,
  expected: number,
  options: WaitOptions = {},
): Promise<WaitOutcome> {
  const { timeoutMs, signal } = options
  if (signal?.aborted) return 'aborted'
  const result = atomics.waitAsync(words, index, expected, timeoutMs ?? Infinity)
  if (!result.async) return result.value === 'timed-out' ? 'timed-out' : 'changed'
  const keepAlive = options.keepAlive !== false
  const onAbort = (): void => {
    Atomics.notify(words, index)
  }
  if (keepAlive) holdEventLoop()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const value = await result.value
    if (signal?.aborted) return 'aborted'
    return value === 'timed-out' ? 'timed-out' : 'changed'
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (keepAlive) releaseEventLoop()
  }
}

/** Milliseconds left before `deadlineMs` (a performance.now() value), or undefined for no deadline. */
export function remainingMs(deadlineMs: number | undefined): number | undefined {
  return deadlineMs === undefined ? undefined : Math.max(0, deadlineMs - performance.now())
}
