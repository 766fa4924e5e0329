import t from 'tap'
import type { LoadResult } from '../../bench/peers/closed-loop.js'
import { compare, ratio, resultNotes } from '../../bench/peers/comparison.js'
import { formatComparison, formatMs, formatOps, formatRatio } from '../../bench/peers/report-table.js'
import type { PeerMeasurement, Workload } from '../../bench/peers/workload.js'

function result(opsPerSec: number, more: Partial<LoadResult> = {}): LoadResult {
  return { opsPerSec, p50Ms: 1, p99Ms: 5, p999Ms: 9, maxMs: 12, operations: opsPerSec, calls: opsPerSec, errors: 0, measuredMs: 1000, ...more }
}

function measurement(workload: Workload, peer: string, opsPerSec: number, more: Partial<LoadResult> = {}): PeerMeasurement {
  return { workload, peer, conditions: `${peer} conditions`, summary: `${peer} in short`, result: result(opsPerSec, more) }
}

t.test('ratio is Troupe over peer, rounded to 2 decimals, and absent when the peer measured nothing', async (t) => {
  t.equal(ratio(3000, 1000), 3)
  t.equal(ratio(1000, 3000), 0.33)
  t.equal(ratio(1234, 1000), 1.23)
  t.equal(ratio(1000, 0), undefined)
  t.equal(ratio(undefined, 1000), undefined)
  t.equal(ratio(1000, undefined), undefined)
})

t.test('compare pairs every peer row with the Troupe row of the same workload, in workload order', async (t) => {
  const peers = [
    measurement('kv-put', 'etcd', 500),
    measurement('enqueue-1', 'NATS R1', 4000),
    measurement('enqueue-1', 'NATS R3', 2000),
    measurement('kv-put', 'Redis', 1000),
  ]
  const troupe = [measurement('enqueue-1', 'Troupe', 3000), measurement('kv-put', 'Troupe', 750)]
  const rows = compare(peers, troupe)
  t.same(
    rows.map((r) => [r.workload, r.peer, r.ratio]),
    [
      ['enqueue-1', 'NATS R1', 0.75],
      ['enqueue-1', 'NATS R3', 1.5],
      ['kv-put', 'etcd', 1.5],
      ['kv-put', 'Redis', 0.75],
    ],
  )
  t.equal(rows[0]!.troupeFigures?.opsPerSec, 3000)
  t.equal(rows[0]!.peerConditions, 'NATS R1 conditions')
})

t.test('compare keeps peer rows without a Troupe figure, and Troupe rows no peer measured', async (t) => {
  const rows = compare([measurement('consume-ack', 'BullMQ', 900)], [measurement('kv-get', 'Troupe', 8000)])
  t.equal(rows.length, 2)
  t.equal(rows[0]!.peer, 'BullMQ')
  t.equal(rows[0]!.troupeFigures, undefined)
  t.equal(rows[0]!.ratio, undefined)
  t.equal(rows[1]!.peer, undefined)
  t.equal(rows[1]!.troupeFigures?.opsPerSec, 8000)
})

t.test('notes flag a queue that ran dry, errors, and an empty window; a clean result has none', async (t) => {
  t.same(resultNotes(result(100)), [])
  t.same(resultNotes(result(100, { drainedAtMs: 2500 })), ['ran dry after 2.5 s'])
  t.same(resultNotes(result(0, { drainedAtMs: 0, measuredMs: 0, calls: 0 })), ['ran dry during the warm-up'])
  t.same(resultNotes(result(100, { errors: 3, firstError: 'boom' })), ['3 errors, first: boom'])
  t.same(resultNotes(result(0, { calls: 0 })), ['no call completed in the window'])
})

t.test('number formatting: grouped ops/s, ms to about 3 digits, ratios with an x', async (t) => {
  t.equal(formatOps(12345.6), '12,346')
  t.equal(formatOps(undefined), '-')
  t.equal(formatMs(0.4567), '0.46')
  t.equal(formatMs(12.34), '12.3')
  t.equal(formatMs(234.5), '235')
  t.equal(formatRatio(1.5), '1.50x')
  t.equal(formatRatio(undefined), '-')
})

t.test('the table has one numbered line per row with both sides and the ratio, then conditions and notes', async (t) => {
  const rows = compare(
    [measurement('enqueue-1', 'NATS R1', 4000, { errors: 2, firstError: 'TIMEOUT' })],
    [measurement('enqueue-1', 'Troupe', 3000, { drainedAtMs: 1000 })],
  )
  const text = formatComparison(rows)
  const lines = text.split('\n')
  t.match(lines[0], /workload.*peer ops\/s.*Troupe ops\/s.*Troupe\/peer/)
  const line = lines.find((l) => l.includes('NATS R1'))!
  t.match(line, /enqueue, 1 per call/)
  t.match(line, /NATS R1 in short/)
  t.match(line, /4,000/)
  t.match(line, /3,000/)
  t.match(line, /0\.75x/)
  t.match(text, /NATS R1: NATS R1 conditions/)
  t.match(text, /! NATS R1: 2 errors, first: TIMEOUT/)
  t.match(text, /Troupe conditions/)
  t.match(text, /ran dry after 1\.0 s/)
})
