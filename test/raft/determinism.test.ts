// The core is deterministic: same seed and inputs, same outputs. Also the
// small pure pieces it is built from (Rng, ConfChange encoding, quorum math).
import t from 'tap'
import { createRng, decodeConfChange, encodeConfChange, RaftError } from '../../src/raft/index.js'
import { majorityValue, voteResult } from '../../src/raft/quorum.js'
import { Inflights } from '../../src/raft/inflights.js'
import { LeaderLease } from '../../src/raft/leader-lease.js'
import { Network, bytes } from './network.js'

function traceOfRun(): string {
  const net = new Network([1, 2, 3, 4, 5])
  net.tickAll(40)
  const leader = net.leaders()[0]!
  for (let i = 0; i < 5; i++) net.get(leader).node.propose(bytes(`e${i}`))
  net.isolate(leader)
  net.tickAll(40)
  net.heal()
  net.tickAll(10)
  return JSON.stringify(net.sentLog.map((m) => [m.type, m.from, m.to, m.term, m.index, m.logTerm, m.commit, m.reject, m.entries.length]))
}

t.test('two runs with the same seeds and inputs send exactly the same messages', async (t) => {
  const a = traceOfRun()
  const b = traceOfRun()
  t.ok(a.length > 1000, 'the run did something')
  t.equal(a, b)
})

t.test('createRng: the same seed gives the same sequence, different seeds differ, values in range', async (t) => {
  const seq = (seed: number) => Array.from({ length: 20 }, ((r) => () => r.nextUint32())(createRng(seed)))
  t.same(seq(42), seq(42))
  t.notSame(seq(42), seq(43))
  const r = createRng(7)
  const counts = new Array<number>(10).fill(0)
  let outOfRange = 0
  for (let i = 0; i < 10_000; i++) {
    const v = r.nextInt(10)
    if (v >= 0 && v < 10 && Number.isInteger(v)) counts[v]!++
    else outOfRange++
  }
  t.equal(outOfRange, 0)
  t.ok(counts.every((c) => c > 800 && c < 1200), `roughly uniform: ${counts.join(',')}`)
  const f = r.nextFloat()
  t.ok(f >= 0 && f < 1)
  t.throws(() => r.nextInt(0), RangeError)
  t.throws(() => createRng(-1), RangeError)
})

t.test('ConfChange encoding round-trips and rejects garbage', async (t) => {
  const cc = { type: 'addLearner' as const, nodeId: 0xfffffff0, context: bytes('10.0.0.4:7282') }
  t.same(decodeConfChange(encodeConfChange(cc)), cc)
  t.same(decodeConfChange(encodeConfChange({ type: 'removeVoter', nodeId: 3 })), { type: 'removeVoter', nodeId: 3 })
  t.throws(() => decodeConfChange(new Uint8Array([9, 1, 0, 0, 0, 1])), RaftError)
  t.throws(() => decodeConfChange(new Uint8Array([1, 9, 0, 0, 0, 1])), RaftError)
  t.throws(() => encodeConfChange({ type: 'addVoter', nodeId: 0 }), RaftError)
})

t.test('quorum: the majority value and vote outcomes', async (t) => {
  t.equal(majorityValue([5]), 5)
  t.equal(majorityValue([5, 1, 4]), 4)
  t.equal(majorityValue([5, 1, 4, 2]), 2)
  t.equal(majorityValue([9, 1, 4, 2, 8]), 4)
  t.equal(voteResult(3, 2, 0), 'won')
  t.equal(voteResult(3, 1, 1), 'pending')
  t.equal(voteResult(3, 1, 2), 'lost')
  t.equal(voteResult(4, 2, 2), 'lost')
  t.equal(voteResult(4, 2, 1), 'pending')
})

t.test('inflights: a bounded window freed in order', async (t) => {
  const w = new Inflights(3)
  w.add(5)
  w.add(7)
  w.add(9)
  t.ok(w.full())
  t.throws(() => w.add(11), RangeError)
  w.freeLE(7)
  t.equal(w.size(), 1)
  w.add(11)
  w.add(13)
  w.freeFirstOne()
  w.freeLE(12)
  t.equal(w.size(), 1)
})

t.test('leader lease: counted from the send tick of the confirmed round, revocable', async (t) => {
  const lease = new LeaderLease(7)
  t.notOk(lease.valid(0), 'no lease before any confirmed round')
  lease.recordRound(1, 5)
  lease.recordRound(2, 8)
  lease.confirm(1)
  t.ok(lease.valid(11))
  t.notOk(lease.valid(12), 'round 1 was sent at tick 5: valid through tick 11')
  lease.confirm(2)
  t.ok(lease.valid(14))
  t.notOk(lease.valid(15))
  lease.confirm(1)
  t.ok(lease.valid(14), 'a stale confirmation never moves the lease back')
  lease.revoke()
  t.notOk(lease.valid(9))
})
