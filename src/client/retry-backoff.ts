// Delays between retries: exponential with full jitter (a uniformly random
// delay between 0 and the exponential bound), so that the many clients that
// lost the same leader do not all come back in the same instant.
import { backoffDelayMs, type BackoffOptions } from '../net/backoff.js'
import type { Cancellation } from './cancellation.js'

export interface RetryBackoff {
  initialMs: number
  maxMs: number
}

/** Delay before retry number `attempt` (0-based), never shorter than the node's `retryAfterMs`. */
export function retryDelayMs(attempt: number, backoff: RetryBackoff, retryAfterMs = 0, random: () => number = Math.random): number {
  const options: BackoffOptions = { initialDelayMs: backoff.initialMs, maxDelayMs: backoff.maxMs, multiplier: 2, jitterRatio: 1 }
  return Math.max(backoffDelayMs(attempt, options, random), retryAfterMs)
}

/** Resolves after `ms`, or as soon as `cancellation` fires (then rejects with its reason). */
export function sleepCancellable(ms: number, cancellation: Cancellation): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cancellation.cancelled) {
      reject(cancellation.reason)
      return
    }
    const unsubscribe = cancellation.subscribe(() => {
      clearTimeout(timer)
      reject(cancellation.reason)
    })
    const timer = setTimeout(() => {
      unsubscribe()
      resolve()
    }, ms)
  })
}

/** Resolves after `ms`, or as soon as `signal` aborts (then rejects with its reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason)
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
