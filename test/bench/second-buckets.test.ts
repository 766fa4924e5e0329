// One-second buckets: an event lands in the second it finished in (a drop,
// in the second it was due), counted from the start of measurement.
import t from 'tap'
import { LoadRecorder } from '../../bench/load/load-recorder.js'
import { SecondBuckets } from '../../bench/load/second-buckets.js'
import { measuredSeconds, runWindow } from '../../bench/load/window.js'
import { closeTo, SECOND_PRECISION } from './close-to.js'

t.test('events land in the second they happened in, from the start of measurement', async (t) => {
  const buckets = new SecondBuckets(5000, 3)
  t.equal(buckets.indexOf(4999.9), -1, 'before the start: not bucketed')
  t.equal(buckets.indexOf(5000), 0)
  t.equal(buckets.indexOf(5999.999), 0)
  t.equal(buckets.indexOf(6000), 1)
  t.equal(buckets.indexOf(7999), 2)
  t.equal(buckets.indexOf(8000), -1, 'after the last second: not bucketed')
  buckets.success(5100, 4, 1)
  buckets.success(5900, 8, 10)
  buckets.success(6000, 2, 1)
  buckets.failure(6500)
  buckets.failure(9000)
  buckets.drop(7000)
  buckets.success(4000, 1000, 1)
  const series = buckets.series()
  t.same(series.map((s) => [s.second, s.ops, s.items, s.errors, s.dropped]), [
    [0, 2, 11, 0, 0],
    [1, 1, 1, 1, 0],
    [2, 0, 0, 0, 1],
  ])
  t.ok(closeTo(series[0]!.maxMs, 8, SECOND_PRECISION), `max ${series[0]!.maxMs}`)
  t.ok(closeTo(series[0]!.p99Ms, 8, SECOND_PRECISION), `p99 ${series[0]!.p99Ms}`)
  t.ok(closeTo(series[1]!.p50Ms, 2, SECOND_PRECISION), `p50 ${series[1]!.p50Ms}`)
  t.equal(series[2]!.p99Ms, 0, 'a second with no answer has p99 0')
})

t.test('per-second p99 comes from that second only', async (t) => {
  const buckets = new SecondBuckets(0, 2)
  for (let i = 0; i < 100; i++) buckets.success(10 + i, 1, 1)
  for (let i = 0; i < 100; i++) buckets.success(1010 + i, i < 98 ? 1 : 500, 1)
  t.ok(closeTo(buckets.figures(0).p99Ms, 1, SECOND_PRECISION), `second 0 p99 ${buckets.figures(0).p99Ms}`)
  t.ok(closeTo(buckets.figures(1).p99Ms, 500, SECOND_PRECISION), `the two slow answers are the top 2% (p99 ${buckets.figures(1).p99Ms})`)
  t.ok(closeTo(buckets.figures(1).p50Ms, 1, SECOND_PRECISION), `second 1 p50 ${buckets.figures(1).p50Ms}`)
})

t.test('the recorder counts totals even outside the buckets, and caps error labels', async (t) => {
  const recorder = new LoadRecorder(0, 1, ['a', 'b'])
  recorder.success('a', 1, 1, 500)
  recorder.success('b', 3, 2, 1500)
  for (let i = 0; i < 40; i++) recorder.failure(`CODE_${i}`, 100)
  const result = recorder.result()
  t.equal(result.ops, 2)
  t.equal(result.items, 4)
  t.equal(result.series[0]!.ops, 1, 'the answer at 1.5 s is past the only bucket')
  t.same(result.kinds.map((k) => [k.kind, k.ops, k.items]), [['a', 1, 1], ['b', 1, 3]])
  t.equal(result.errors, 40)
  t.equal(Object.keys(result.errorsByCode).length, 33, '32 labels and OTHER')
  t.equal(result.errorsByCode['OTHER'], 8)
})

t.test('rejects a bucket count out of range', async (t) => {
  t.throws(() => new SecondBuckets(0, 0), RangeError)
  t.throws(() => new SecondBuckets(0, 1.5), RangeError)
})

t.test('a run of N whole seconds has N buckets, whatever the fractional start time', async (t) => {
  const counts = new Set<number>()
  for (let i = 0; i < 1000; i++) counts.add(measuredSeconds(runWindow(i * 1234.567891, 15_000, 15_000)))
  t.same([...counts], [15])
  t.equal(measuredSeconds(runWindow(0, 0, 1500)), 2, 'a partial last second gets its bucket')
})
