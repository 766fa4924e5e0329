// Rate limits of the HTTP API (off by default): one token bucket per client
// address and one per queue. The bucket maps are bounded; when one is full
// the least recently used bucket is forgotten (a forgotten client starts
// again with a full bucket, which errs towards serving).
import { HttpError } from './http-error.js'
import { TokenBucket, parseRateSpec, type RateSpec } from './token-bucket.js'

export interface RateLimitOptions {
  /** Per client address (the TCP peer address). */
  perClient?: RateSpec
  /** Per queue name, across all clients (queue routes only). */
  perQueue?: RateSpec
  /** Buckets kept per map. Default 100,000. */
  bucketsMax?: number
}

export const RATE_LIMIT_BUCKETS_MAX_DEFAULT = 100_000

class BucketMap {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly spec: RateSpec,
    private readonly bucketsMax: number,
    private readonly what: string,
  ) {}

  take(key: string, nowMs: number): void {
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      if (this.buckets.size >= this.bucketsMax) this.buckets.delete(this.buckets.keys().next().value!)
      bucket = new TokenBucket(this.spec, nowMs)
    } else {
      // Re-insert to keep the map in least-recently-used order.
      this.buckets.delete(key)
    }
    this.buckets.set(key, bucket)
    const waitMs = bucket.take(nowMs)
    if (waitMs > 0) {
      throw new HttpError('RATE_LIMITED', `rate limit of ${this.spec.ratePerSec}/s per ${this.what} exceeded`, {
        retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)),
      })
    }
  }

  get size(): number {
    return this.buckets.size
  }
}

export class RateLimiter {
  private readonly perClient: BucketMap | undefined
  private readonly perQueue: BucketMap | undefined

  constructor(options: RateLimitOptions = {}) {
    const bucketsMax = options.bucketsMax ?? RATE_LIMIT_BUCKETS_MAX_DEFAULT
    if (!Number.isSafeInteger(bucketsMax) || bucketsMax < 1) throw new RangeError(`bucketsMax must be a positive integer, got ${bucketsMax}`)
    this.perClient = options.perClient ? new BucketMap(options.perClient, bucketsMax, 'client') : undefined
    this.perQueue = options.perQueue ? new BucketMap(options.perQueue, bucketsMax, 'queue') : undefined
  }

  get enabled(): boolean {
    return this.perClient !== undefined || this.perQueue !== undefined
  }

  /** Throws 429 RATE_LIMITED when the client's or the queue's bucket is empty. */
  check(clientAddress: string, queue: string | undefined, nowMs: number): void {
    this.perClient?.take(clientAddress, nowMs)
    if (queue !== undefined) this.perQueue?.take(queue, nowMs)
  }
}

/**
 * Rate limits from the environment, for the CLI: `TROUPE_RATE_LIMIT_CLIENT`
 * and `TROUPE_RATE_LIMIT_QUEUE`, each `RATE[:BURST]` (the same forms as
 * `--rate-limit-client` and `--rate-limit-queue`). Undefined when neither is set.
 */
export function rateLimitFromEnv(env: NodeJS.ProcessEnv): RateLimitOptions | undefined {
  const client = env['TROUPE_RATE_LIMIT_CLIENT']
  const queue = env['TROUPE_RATE_LIMIT_QUEUE']
  if (!client && !queue) return undefined
  return {
    ...(client ? { perClient: parseRateSpec(client) } : {}),
    ...(queue ? { perQueue: parseRateSpec(queue) } : {}),
  }
}
