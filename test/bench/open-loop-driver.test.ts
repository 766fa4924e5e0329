// The open-loop scheduler issues request k at start + k / rate whatever the
// answers, charges latency from that scheduled time, and drops what would
// exceed the in-flight cap. Checked on a fake clock.
import t from 'tap'
import { LoadRecorder } from '../../bench/load/load-recorder.js'
import { runOpenLoop } from '../../bench/load/open-loop-driver.js'
import { runWindow } from '../../bench/load/window.js'
import { closeTo, TOTAL_PRECISION } from './close-to.js'
import { FakeClock } from './fake-clock.js'

interface Issued {
  sequence: number
  dueMs: number
  issuedMs: number
}

function fixture(options: { lateMs?: number; serviceMs: number; ratePerSec: number; warmupMs?: number; durationMs: number; maxOutstanding?: number }) {
  const clock = new FakeClock(options.lateMs ?? 0)
  const window = runWindow(clock.nowMs(), options.warmupMs ?? 0, options.durationMs)
  const recorder = new LoadRecorder(window.measureFromMs, Math.ceil(options.durationMs / 1000), ['op'])
  const issued: Issued[] = []
  const run = runOpenLoop({
    ratePerSec: options.ratePerSec,
    maxOutstanding: options.maxOutstanding ?? 10_000,
    window,
    clock,
    recorder,
    async operate(sequence, dueMs) {
      issued.push({ sequence, dueMs, issuedMs: clock.nowMs() })
      await clock.after(options.serviceMs)
      return { kind: 'op', items: 1 }
    },
  })
  return { clock, recorder, issued, run }
}

t.test('issues one request per 1/rate, on schedule, for the whole window', async (t) => {
  const { clock, recorder, issued, run } = fixture({ ratePerSec: 200, serviceMs: 3, durationMs: 2000 })
  const counts = await clock.run(run)
  t.equal(counts.issued, 400, 'rate x duration requests')
  t.equal(counts.dropped, 0)
  t.same(issued.map((i) => i.sequence), Array.from({ length: 400 }, (_, k) => k), 'in sequence order')
  t.ok(issued.every((i, k) => Math.abs(i.dueMs - k * 5) < 1e-9), 'request k is due at k x 5 ms')
  t.ok(issued.every((i) => i.issuedMs === i.dueMs), 'with a punctual clock each request leaves when due')
  const result = recorder.result()
  t.equal(result.ops, 400)
  t.ok(closeTo(result.p50Ms, 3, TOTAL_PRECISION), `latency is the service time (p50 ${result.p50Ms})`)
  t.ok(closeTo(result.maxMs, 3, TOTAL_PRECISION), `max ${result.maxMs}`)
  t.same(result.series.map((s) => s.ops), [200, 200], 'per second, by finishing time')
})

t.test('does not wait for answers: requests overlap when the service is slower than the rate', async (t) => {
  const { clock, issued, run } = fixture({ ratePerSec: 100, serviceMs: 250, durationMs: 1000 })
  const counts = await clock.run(run)
  t.equal(counts.issued, 100)
  t.equal(issued[30]!.dueMs, 300, 'request 30 left at 300 ms although request 0 answered only at 250 ms and request 29 at 540 ms')
  t.ok(counts.maxInFlight >= 25, `about 25 in flight at once (${counts.maxInFlight})`)
})

t.test('charges latency from the scheduled time, so a late scheduler counts its lateness', async (t) => {
  // Every sleep ends 40 ms late: requests leave in bursts, up to 40 ms after their due time.
  const { clock, recorder, issued, run } = fixture({ lateMs: 40, ratePerSec: 100, serviceMs: 2, durationMs: 1000 })
  await clock.run(run)
  const expected = issued.map((i) => i.issuedMs - i.dueMs + 2)
  t.ok(Math.max(...expected) >= 40, 'the fixture did delay requests')
  const result = recorder.result()
  t.equal(result.ops, issued.length)
  t.ok(closeTo(result.maxMs, Math.max(...expected), TOTAL_PRECISION), `the worst latency includes the time the request waited to be sent (${result.maxMs} ms)`)
  const sorted = [...expected].sort((a, b) => a - b)
  const median = sorted[Math.ceil(sorted.length / 2) - 1]!
  t.ok(closeTo(result.p50Ms, median, TOTAL_PRECISION), `the median too (${result.p50Ms} vs ${median} ms)`)
  t.ok(result.p50Ms > 2, 'latency measured from the send time would have been 2 ms throughout')
})

t.test('drops requests due while the in-flight cap is reached, and counts them', async (t) => {
  const { clock, recorder, run } = fixture({ ratePerSec: 100, serviceMs: 30_000, durationMs: 1000, maxOutstanding: 3 })
  const counts = await clock.run(run)
  t.equal(counts.issued, 3)
  t.equal(counts.dropped, 97)
  t.equal(counts.maxInFlight, 3)
  const result = recorder.result()
  t.equal(result.dropped, 97)
  t.equal(result.series[0]!.dropped, 97, 'bucketed by due time')
  t.equal(result.ops, 3, 'the three sent are still waited for and measured')
  t.ok(closeTo(result.maxMs, 30_000, TOTAL_PRECISION), `max ${result.maxMs}`)
})

t.test('warm-up requests are sent but not measured', async (t) => {
  const { clock, recorder, run } = fixture({ ratePerSec: 10, serviceMs: 1, warmupMs: 1000, durationMs: 1000 })
  const counts = await clock.run(run)
  t.equal(counts.issued, 20)
  t.equal(recorder.result().ops, 10)
})

t.test('rejects a rate or cap out of range', async (t) => {
  const clock = new FakeClock()
  const window = runWindow(0, 0, 1000)
  const recorder = new LoadRecorder(0, 1)
  const operate = async () => ({ kind: 'op', items: 1 })
  await t.rejects(runOpenLoop({ ratePerSec: 0, maxOutstanding: 1, window, clock, recorder, operate }), RangeError)
  await t.rejects(runOpenLoop({ ratePerSec: 10, maxOutstanding: 0, window, clock, recorder, operate }), RangeError)
})
