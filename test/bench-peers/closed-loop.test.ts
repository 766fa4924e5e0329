import t from 'tap'
import { MAX_ERRORS, runClosedLoop } from '../../bench/peers/closed-loop.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 1))

t.test('a batch counts as many operations as it did, and each call is one latency sample', async (t) => {
  const result = await runClosedLoop({ clients: 3, warmupMs: 20, durationMs: 150 }, async () => {
    await tick()
    return 100
  })
  t.ok(result.calls > 0)
  t.equal(result.operations, result.calls * 100)
  t.equal(result.errors, 0)
  t.equal(result.drainedAtMs, undefined)
  // The window is start + 150 on performance.now()'s fractional milliseconds: equal up to rounding.
  t.ok(Math.abs(result.measuredMs - 150) < 1e-6, `measured over ${result.measuredMs} ms`)
})

t.test('a caller that finds nothing stops every caller, and the rate covers the time until then', async (t) => {
  let left = 40
  const result = await runClosedLoop({ clients: 4, warmupMs: 0, durationMs: 60_000 }, async () => {
    await tick()
    if (left === 0) return 0
    left--
    return 1
  })
  t.ok(result.drainedAtMs !== undefined, 'it says it ran dry')
  t.ok(result.measuredMs < 60_000, 'the window ended at the drain')
  t.ok(result.operations <= 40)
  t.ok(result.operations >= 36, 'only calls in flight at the drain may be left out')
})

t.test('a broken server is given up on after a bounded number of errors, keeping the first message', async (t) => {
  let n = 0
  const result = await runClosedLoop({ clients: 4, warmupMs: 0, durationMs: 60_000 }, async () => {
    throw new Error(`refused ${n++}`)
  })
  t.ok(result.errors >= MAX_ERRORS && result.errors < MAX_ERRORS + 4)
  t.equal(result.firstError, 'refused 0')
  t.equal(result.operations, 0)
})
