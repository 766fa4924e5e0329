// A token bucket: `ratePerSec` tokens refill continuously up to `burst`.
// The clock is passed in, so the arithmetic is testable without waiting.

export interface RateSpec {
  /** Sustained requests per second. */
  ratePerSec: number
  /** Requests allowed at once after an idle period; default = ratePerSec. */
  burst: number
}

export class TokenBucket {
  private tokens: number
  private updatedMs: number

  constructor(
    private readonly spec: RateSpec,
    nowMs: number,
  ) {
    this.tokens = spec.burst
    this.updatedMs = nowMs
  }

  /** Takes one token; returns 0 when it was available, else the ms until one will be. */
  take(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.updatedMs)
    this.tokens = Math.min(this.spec.burst, this.tokens + (elapsedMs * this.spec.ratePerSec) / 1000)
    this.updatedMs = nowMs
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.spec.ratePerSec)
  }

  /** True when the bucket is full again, i.e. forgetting it changes nothing. */
  isFull(nowMs: number): boolean {
    return this.tokens + ((nowMs - this.updatedMs) * this.spec.ratePerSec) / 1000 >= this.spec.burst
  }
}

/** Parses `RATE[:BURST]`, e.g. `100` or `100:500` (requests per second). */
export function parseRateSpec(text: string): RateSpec {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?::\s*(\d+))?\s*$/.exec(text)
  const ratePerSec = match ? Number(match[1]) : NaN
  const burst = match && match[2] !== undefined ? Number(match[2]) : Math.max(1, Math.ceil(ratePerSec))
  if (!match || !(ratePerSec > 0) || !(burst >= 1)) {
    throw new RangeError(`a rate limit is RATE[:BURST] with RATE > 0 and BURST >= 1, got '${text}'`)
  }
  return { ratePerSec, burst }
}
