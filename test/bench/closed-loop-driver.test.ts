// The closed loop keeps `concurrency` requests going back to back, measures
// only the window after warm-up, and backs off after an error.
import t from 'tap'
import { runClosedLoop } from '../../bench/load/closed-loop-driver.js'
import { LoadError } from '../../bench/load/load-error.js'
import { LoadRecorder } from '../../bench/load/load-recorder.js'
import { runWindow } from '../../bench/load/window.js'
import { closeTo, TOTAL_PRECISION } from './close-to.js'
import { FakeClock } from './fake-clock.js'

t.test('each worker issues its next request when the previous answered', async (t) => {
  const clock = new FakeClock()
  const window = runWindow(0, 500, 1000)
  const recorder = new LoadRecorder(window.measureFromMs, 1, ['op'])
  let inFlight = 0
  let maxInFlight = 0
  const counts = await clock.run(
    runClosedLoop({
      concurrency: 4,
      window,
      clock,
      recorder,
      errorBackoffMs: 100,
      async operate() {
        maxInFlight = Math.max(maxInFlight, ++inFlight)
        await clock.after(10)
        inFlight--
        return { kind: 'op', items: 2 }
      },
    }),
  )
  t.equal(maxInFlight, 4, 'never more than the workers')
  t.equal(counts.issued, 4 * 150, '150 requests of 10 ms per worker in 1.5 s')
  const result = recorder.result()
  t.equal(result.ops, 4 * 100, 'the 0.5 s warm-up is not measured')
  t.equal(result.items, 800)
  t.ok(closeTo(result.p99Ms, 10, TOTAL_PRECISION), `p99 is the service time (${result.p99Ms})`)
})

t.test('an error is counted under its code and the worker backs off before the next request', async (t) => {
  const clock = new FakeClock()
  const window = runWindow(0, 0, 1000)
  const recorder = new LoadRecorder(0, 1, ['op'])
  const counts = await clock.run(
    runClosedLoop({
      concurrency: 1,
      window,
      clock,
      recorder,
      errorBackoffMs: 100,
      async operate() {
        await clock.after(1)
        throw new LoadError('CONNECTION_FAILED', 'refused', 'ECONNREFUSED')
      },
    }),
  )
  t.equal(counts.issued, 10, 'one attempt per 101 ms instead of a tight loop')
  const result = recorder.result()
  t.equal(result.errors, 10)
  t.same(result.errorsByCode, { ECONNREFUSED: 10 })
  t.equal(result.ops, 0)
})
