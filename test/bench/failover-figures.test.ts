// The failover figures from one-second buckets, and the choice of the node
// to kill from the nodes' cluster views.
import t from 'tap'
import { failoverFigures } from '../../bench/load/failover-figures.js'
import type { SecondFigures } from '../../bench/load/second-buckets.js'
import { busiestLeader, leadersFromViews } from '../../bench/load/shard-leaders.js'

function series(ops: number[]): SecondFigures[] {
  return ops.map((n, second) => ({ second, ops: n, items: n, errors: n < 500 ? 3 : 0, dropped: 0, p50Ms: 1, p99Ms: n < 500 ? 90 : 9, maxMs: 100 }))
}

t.test('a dip after the kill: its length and the time back to 80% of the baseline', async (t) => {
  //                         0    1     2     3    4(kill 4.3) 5  6    7    8(restart 8.5) 9   10
  const figures = failoverFigures(series([500, 1000, 1100, 900, 950, 100, 0, 700, 1000, 600, 1000]), 4.3, 8.5)
  t.equal(figures.baselineOpsPerSec, 1000, 'median of seconds 1..3')
  t.equal(figures.dipSeconds, 2, 'seconds 5 and 6 below half; the kill second itself was still high')
  t.equal(figures.recoverySeconds, 3.7, 'second 8 is the first back at >= 800 after the dip: 8 - 4.3')
  t.equal(figures.recoveryAfterRestartSeconds, 1.5, 'second 9 dipped to 600, second 10 is back: 10 - 8.5')
  t.equal(figures.minOpsPerSecAfterKill, 0)
  t.equal(figures.maxP99MsAfterKill, 90)
  t.equal(figures.errorsAfterKill, 6, 'the two seconds below 500 had 3 errors each')
})

t.test('no visible dip: recovery 0, never back: undefined', async (t) => {
  const steady = failoverFigures(series([1000, 1000, 1000, 1000, 990, 1000, 1000]), 3.5, 5.2)
  t.equal(steady.dipSeconds, 0)
  t.equal(steady.recoverySeconds, 0)
  t.equal(steady.recoveryAfterRestartSeconds, 0)
  const down = failoverFigures(series([1000, 1000, 1000, 1000, 100, 100, 100]), 3.5, undefined)
  t.equal(down.dipSeconds, 3)
  t.equal(down.recoverySeconds, undefined)
  t.equal(down.recoveryAfterRestartSeconds, undefined)
})

t.test('the busiest leader comes from the views with the highest term per shard', async (t) => {
  const views = [
    // Node 3 was cut off and still believes node 1 leads shard 0 in term 2.
    { shards: [{ id: 0, leader: 1, term: 2 }, { id: 1, leader: 2, term: 3 }, { id: 2, leader: 0, term: 4 }] },
    { shards: [{ id: 0, leader: 2, term: 5 }, { id: 1, leader: 2, term: 3 }, { id: 2, leader: 3, term: 4 }, { id: 3, leader: 0, term: 1 }] },
  ]
  const leaders = leadersFromViews(views)
  t.same([...leaders.entries()].sort((a, b) => a[0] - b[0]), [[0, 2], [1, 2], [2, 3], [3, 0]])
  t.same(busiestLeader(leaders), { id: 2, shardsLed: 2 })
  t.same(busiestLeader(new Map([[0, 3], [1, 1]])), { id: 1, shardsLed: 1 }, 'a tie goes to the lowest id')
  t.equal(busiestLeader(new Map([[0, 0]])), undefined, 'no leader known')
})
