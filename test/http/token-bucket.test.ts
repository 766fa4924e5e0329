// Token-bucket arithmetic with an injected clock, and the rate-limit parsing the CLI uses.
import t from 'tap'
import { RateLimiter, rateLimitFromEnv } from '../../src/http/rate-limiter.js'
import { HttpError } from '../../src/http/http-error.js'
import { TokenBucket, parseRateSpec } from '../../src/http/token-bucket.js'

t.test('a bucket allows its burst, then one token per 1/rate seconds', async (t) => {
  const bucket = new TokenBucket({ ratePerSec: 10, burst: 3 }, 1_000)
  t.same([bucket.take(1_000), bucket.take(1_000), bucket.take(1_000)], [0, 0, 0])
  t.equal(bucket.take(1_000), 100, 'the next token is 100 ms away')
  t.equal(bucket.take(1_050), 50)
  t.equal(bucket.take(1_100), 0)
  t.notOk(bucket.isFull(1_100))
  t.ok(bucket.isFull(1_400), 'refilled to the burst after 300 ms')
  t.same([bucket.take(5_000), bucket.take(5_000), bucket.take(5_000)], [0, 0, 0], 'never more than the burst')
  t.ok(bucket.take(5_000) > 0)
})

t.test('a clock that goes backwards refills nothing', async (t) => {
  const bucket = new TokenBucket({ ratePerSec: 1, burst: 1 }, 10_000)
  t.equal(bucket.take(10_000), 0)
  t.ok(bucket.take(5_000) > 0)
})

t.test('parseRateSpec reads RATE[:BURST] and refuses the rest', async (t) => {
  t.same(parseRateSpec('100'), { ratePerSec: 100, burst: 100 })
  t.same(parseRateSpec('0.5:4'), { ratePerSec: 0.5, burst: 4 })
  t.same(parseRateSpec('0.5'), { ratePerSec: 0.5, burst: 1 })
  for (const bad of ['', '0', '-1', 'ten', '10:0', '10:2.5', '10:', ':5']) t.throws(() => parseRateSpec(bad), RangeError, `'${bad}'`)
})

t.test('rateLimitFromEnv reads TROUPE_RATE_LIMIT_CLIENT and TROUPE_RATE_LIMIT_QUEUE', async (t) => {
  t.equal(rateLimitFromEnv({}), undefined)
  t.same(rateLimitFromEnv({ TROUPE_RATE_LIMIT_CLIENT: '50:100' }), { perClient: { ratePerSec: 50, burst: 100 } })
  t.same(rateLimitFromEnv({ TROUPE_RATE_LIMIT_QUEUE: '5' }), { perQueue: { ratePerSec: 5, burst: 5 } })
  t.throws(() => rateLimitFromEnv({ TROUPE_RATE_LIMIT_CLIENT: 'lots' }), RangeError)
})

t.test('the limiter keeps at most bucketsMax buckets, forgetting the least recently used', async (t) => {
  const limiter = new RateLimiter({ perClient: { ratePerSec: 1, burst: 1 }, bucketsMax: 2 })
  limiter.check('a', undefined, 0)
  limiter.check('b', undefined, 0)
  t.throws(() => limiter.check('a', undefined, 0), HttpError, 'a is spent')
  limiter.check('c', undefined, 0)
  // b was the least recently used and is forgotten; a was used after it and is kept, still spent.
  t.throws(() => limiter.check('a', undefined, 0), HttpError, 'a is kept and still spent')
  t.doesNotThrow(() => limiter.check('b', undefined, 0), 'b starts again with a full bucket')
})

t.test('a limited request carries a Retry-After of at least one second', async (t) => {
  const limiter = new RateLimiter({ perQueue: { ratePerSec: 0.25, burst: 1 } })
  limiter.check('client', 'q', 0)
  limiter.check('client', undefined, 0)
  const error = t.throws(() => limiter.check('client', 'q', 0)) as HttpError
  t.equal(error.code, 'RATE_LIMITED')
  t.equal(error.status, 429)
  t.equal(error.details.retryAfterSec, 4)
})
