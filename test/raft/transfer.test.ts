// Leadership transfer (Raft thesis §3.10).
import t from 'tap'
import { bytes, Network } from './network.js'

t.test('transfer to an up-to-date follower: it campaigns at once and wins the next term', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  const term = net.raft(1).term
  t.same(net.get(1).node.transferLeadership(2), { ok: true })
  net.stabilize()
  t.same(net.leaders(), [2])
  t.equal(net.raft(2).term, term + 1)
  t.equal(net.raft(1).lead, 2)
})

t.test('transfer to a lagging follower: the leader first catches it up, then sends TimeoutNow', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.cutLink(1, 3)
  net.propose(1, 'a', 'b', 'c')
  net.heal()
  const lastIndex = net.raft(1).log.lastIndex()
  t.ok(net.raft(3).log.lastIndex() < lastIndex, 'node 3 lags')
  net.get(1).node.transferLeadership(3)
  net.processReady(1)
  t.same(net.pending('timeoutNow'), [], 'no TimeoutNow before the target caught up')
  net.stabilize()
  t.same(net.leaders(), [3])
  t.same(net.get(3).applied, ['a', 'b', 'c'])
})

t.test('transfer: proposals are rejected while it is in progress, and it is aborted after an election timeout', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.isolate(3)
  net.propose(1, 'x')
  t.same(net.get(1).node.transferLeadership(3), { ok: true })
  const rejected = net.get(1).node.propose(bytes('y'))
  t.equal(rejected.ok ? 'ok' : rejected.code, 'TRANSFER_IN_PROGRESS')
  net.tickAll(10)
  t.equal(net.raft(1).leadTransferee, 0, 'aborted')
  t.same(net.leaders(), [1])
  t.ok(net.get(1).node.propose(bytes('y')).ok, 'proposals accepted again')
})

t.test('transfer: only to a voter, only on the leader', async (t) => {
  const net = new Network([1, 2, 3], {}, [4])
  net.elect(1)
  const toLearner = net.get(1).node.transferLeadership(4)
  t.equal(toLearner.ok ? 'ok' : toLearner.code, 'INVALID_ARGUMENT')
  const onFollower = net.get(2).node.transferLeadership(3)
  t.equal(onFollower.ok ? 'ok' : onFollower.code, 'NOT_LEADER')
  if (!onFollower.ok) t.equal(onFollower.leaderId, 1)
  t.same(net.get(1).node.transferLeadership(1), { ok: true }, 'to itself: nothing to do')
})

t.test('transfer: the forced election ignores the followers\' leader lease (check-quorum)', async (t) => {
  const net = new Network([1, 2, 3], { checkQuorum: true, preVote: true })
  net.elect(1)
  net.tickAll(3)
  net.get(1).node.transferLeadership(2)
  net.stabilize()
  t.same(net.leaders(), [2], 'node 3 granted its vote although it heard from node 1 recently')
})
