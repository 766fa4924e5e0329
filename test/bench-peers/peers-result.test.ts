import t from 'tap'
import { peersResult } from '../../bench/peers.js'
import { compare } from '../../bench/peers/comparison.js'
import { parsePeersOptions } from '../../bench/peers/options.js'
import type { PeerMeasurement } from '../../bench/peers/workload.js'

const options = parsePeersOptions(new Map([['only', 'redis,troupe']]), true)

function measurement(workload: PeerMeasurement['workload'], peer: string, opsPerSec: number, p99Ms: number): PeerMeasurement {
  return {
    workload,
    peer,
    conditions: 'c',
    summary: 's',
    result: { opsPerSec, p50Ms: p99Ms / 4, p99Ms, p999Ms: p99Ms * 2, maxMs: p99Ms * 3, operations: opsPerSec * 10, calls: opsPerSec * 10, errors: 0, measuredMs: 10_000 },
  }
}

t.test("the JSON object's headline is Troupe's single enqueue, and every row and failure is in it", async (t) => {
  const troupe = [measurement('kv-put', 'Troupe', 900, 20), measurement('enqueue-1', 'Troupe', 1500, 12)]
  const rows = compare([measurement('kv-put', 'Redis', 3000, 5)], troupe)
  const failures = [{ system: 'nats' as const, code: 'BINARY_MISSING', message: 'missing nats-server' }]
  const result = peersResult(options, troupe, rows, failures, { start: 1.5, end: 2 })
  t.equal(result.bench, 'peers')
  t.equal(result.opsPerSec, 1500)
  t.equal(result.p50Ms, 3)
  t.equal(result.p99Ms, 12)
  t.equal(result['clients'], 32)
  t.equal(result['sizeBytes'], 256)
  t.equal(result['transport'], 'tcp')
  t.same(result['systems'], ['redis', 'troupe'])
  t.same(result['loadAverage1m'], { start: 1.5, end: 2 })
  t.same(result['failures'], failures)
  t.equal((result['rows'] as unknown[]).length, 2)
  t.same(JSON.parse(JSON.stringify(result)), result, 'it survives JSON as it is')
})

t.test('without a Troupe enqueue row the headline is 0 and carries no latency', async (t) => {
  const result = peersResult(options, [], compare([measurement('kv-get', 'Redis', 30_000, 2)], []), [], { start: 0, end: 0 })
  t.equal(result.opsPerSec, 0)
  t.equal(result.p50Ms, undefined)
  t.equal(result.p99Ms, undefined)
})
