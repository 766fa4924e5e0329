import { NetError } from './net-error.js'

// Reconnection delays: exponential, capped, with jitter so that the nodes of a
// cluster that lost the same peer do not all redial it in the same instant.

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialDelayMs: number
  /** No delay exceeds this, whatever the attempt. */
  maxDelayMs: number
  /** Growth per failed attempt (>= 1). */
  multiplier: number
  /** Each delay is cut by up to this fraction, at random (0 = none, at most 1). */
  jitterRatio: number
}

export const backoffDefaults: Readonly<BackoffOptions> = Object.freeze({
  initialDelayMs: 50,
  maxDelayMs: 5_000,
  multiplier: 2,
  jitterRatio: 0.5,
})

/**
 * The delay before retry number `attempt` (0-based): min(maxDelayMs,
 * initialDelayMs * multiplier^attempt), reduced by jitterRatio * random().
 * `random` returns values in [0, 1), like Math.random.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponent = Math.min(Math.max(0, attempt), 64)
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** exponent)
  const r = Math.min(Math.max(random(), 0), 1)
  return Math.max(0, Math.round(base * (1 - options.jitterRatio * r)))
}

export function checkBackoffOptions(options: BackoffOptions): BackoffOptions {
  const { initialDelayMs, maxDelayMs, multiplier, jitterRatio } = options
  const ok =
    Number.isFinite(initialDelayMs) &&
    initialDelayMs >= 0 &&
    Number.isFinite(maxDelayMs) &&
    maxDelayMs >= initialDelayMs &&
    Number.isFinite(multiplier) &&
    multiplier >= 1 &&
    jitterRatio >= 0 &&
    jitterRatio <= 1
  if (!ok) throw new NetError('INVALID_CONFIG', `invalid backoff options: ${JSON.stringify(options)}`)
  return options
}
