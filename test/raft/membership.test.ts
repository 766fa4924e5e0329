// Membership changes one server at a time (Raft thesis §4.1, with the fix of
// §4.1 errata: a leader commits an entry of its own term before a conf change).
import t from 'tap'
import { encodeConfChange, type ConfChange, type NodeId } from '../../src/raft/index.js'
import { bytes, Network } from './network.js'
import { msg, newRaft, readMessages } from './helpers.js'

function change(net: Network, leader: NodeId, cc: ConfChange): void {
  const result = net.get(leader).node.proposeConfChange(cc)
  if (!result.ok) throw new Error(`conf change rejected: ${result.code} ${result.message}`)
  net.stabilize()
}

/** A cluster of 3 voters led by node 1, with node 4 added as a learner from an empty storage. */
function withLearner(): Network {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.propose(1, 'a', 'b')
  net.addNode(4)
  change(net, 1, { type: 'addLearner', nodeId: 4, context: bytes('127.0.0.1:7292') })
  return net
}

t.test('a learner added from an empty storage receives the whole state and the membership', async (t) => {
  const net = withLearner()
  net.propose(1, 'c')
  t.same(net.get(4).applied, ['a', 'b', 'c'])
  t.same(net.get(4).confState, { voters: [1, 2, 3], learners: [4] })
  t.same(net.get(1).confState, { voters: [1, 2, 3], learners: [4] })
  t.equal(net.raft(4).promotable(), false)
})

t.test('a learner does not count towards the quorum', async (t) => {
  const net = withLearner()
  net.isolate(2)
  net.isolate(3)
  const commit = net.raft(1).log.committed
  net.get(1).node.propose(bytes('needs-a-voter'))
  net.stabilize()
  t.equal(net.raft(4).log.lastIndex(), net.raft(1).log.lastIndex(), 'the learner has the entry')
  t.equal(net.raft(1).log.committed, commit, 'but it is not committed')
  net.heal()
  net.tickAll(1)
  t.ok(net.raft(1).log.committed > commit)
})

t.test('promoting a learner makes it a voter that can lead', async (t) => {
  const net = withLearner()
  change(net, 1, { type: 'addVoter', nodeId: 4 })
  t.same(net.get(2).confState, { voters: [1, 2, 3, 4], learners: [] })
  t.equal(net.raft(4).promotable(), true)
  net.get(1).node.transferLeadership(4)
  net.stabilize()
  t.same(net.leaders(), [4])
  net.propose(4, 'from-4')
  t.equal(net.get(3).applied.at(-1), 'from-4')
})

t.test('removing a voter shrinks the quorum', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  change(net, 1, { type: 'removeVoter', nodeId: 3 })
  t.same(net.get(1).confState, { voters: [1, 2], learners: [] })
  net.isolate(3)
  net.propose(1, 'two-of-two')
  t.equal(net.get(2).applied.at(-1), 'two-of-two')
  net.isolate(2)
  const commit = net.raft(1).log.committed
  net.get(1).node.propose(bytes('alone'))
  net.stabilize()
  t.equal(net.raft(1).log.committed, commit, 'with two voters both are needed')
})

t.test('removing the leader: it steps down once the change is applied and another voter takes over', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  change(net, 1, { type: 'removeVoter', nodeId: 1 })
  t.equal(net.raft(1).role, 'follower')
  t.equal(net.raft(1).promotable(), false)
  net.tickAll(30)
  const leaders = net.leaders()
  t.equal(leaders.length, 1)
  t.not(leaders[0], 1)
  t.same(net.get(leaders[0]!).confState, { voters: [2, 3], learners: [] })
  net.propose(leaders[0]!, 'after-removal')
  t.equal(net.get(2).applied.at(-1), 'after-removal')
  t.equal(net.get(3).applied.at(-1), 'after-removal')
})

t.test('one membership change at a time', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  t.ok(net.get(1).node.proposeConfChange({ type: 'addLearner', nodeId: 4 }).ok)
  const second = net.get(1).node.proposeConfChange({ type: 'addLearner', nodeId: 5 })
  t.equal(second.ok ? 'ok' : second.code, 'CONF_CHANGE_PENDING')
  net.stabilize()
  t.ok(net.get(1).node.proposeConfChange({ type: 'addLearner', nodeId: 5 }).ok, 'accepted once the first is applied')
})

t.test('safety fix: a new leader proposes no conf change before an entry of its term is committed and applied', async (t) => {
  const r = newRaft(1, [1, 2, 3])
  r.becomeCandidate()
  r.becomeLeader()
  readMessages(r)
  const early = r.proposeConfChange({ type: 'addLearner', nodeId: 4 })
  t.equal(early.ok ? 'ok' : early.code, 'CONF_CHANGE_PENDING')
  r.step(msg({ type: 'appResp', from: 2, to: 1, term: r.term, index: r.log.lastIndex() }))
  const stillEarly = r.proposeConfChange({ type: 'addLearner', nodeId: 4 })
  t.equal(stillEarly.ok ? 'ok' : stillEarly.code, 'CONF_CHANGE_PENDING', 'committed but not applied yet')
  r.appliedTo(r.log.committed, 0)
  t.ok(r.proposeConfChange({ type: 'addLearner', nodeId: 4 }).ok)
})

t.test('invalid conf changes are refused at proposal', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  const code = (cc: ConfChange): string => {
    const result = net.get(1).node.proposeConfChange(cc)
    return result.ok ? 'ok' : result.code
  }
  t.equal(code({ type: 'addVoter', nodeId: 2 }), 'INVALID_ARGUMENT', 'already a voter')
  t.equal(code({ type: 'addLearner', nodeId: 2 }), 'INVALID_ARGUMENT', 'demotion')
  t.equal(code({ type: 'removeVoter', nodeId: 9 }), 'INVALID_ARGUMENT', 'not a member')
  t.equal(code({ type: 'addVoter', nodeId: 0 }), 'INVALID_ARGUMENT', 'invalid id')
  const solo = new Network([1])
  solo.elect(1)
  const last = solo.get(1).node.proposeConfChange({ type: 'removeVoter', nodeId: 1 })
  t.equal(last.ok ? 'ok' : last.code, 'INVALID_ARGUMENT', 'the last voter')
  const onFollower = net.get(2).node.proposeConfChange({ type: 'addLearner', nodeId: 7 })
  t.equal(onFollower.ok ? 'ok' : onFollower.code, 'NOT_LEADER')
})

t.test('a node does not campaign while a committed conf change is not applied', async (t) => {
  const r = newRaft(1, [1, 2, 3])
  r.becomeFollower(1, 2)
  const data = encodeConfChange({ type: 'addLearner', nodeId: 4 })
  r.step(msg({ type: 'app', from: 2, to: 1, term: 1, index: 0, logTerm: 0, commit: 1, entries: [{ term: 1, index: 1, type: 'conf', data }] }))
  readMessages(r)
  r.hup(false)
  t.equal(r.role, 'follower')
  r.appliedTo(1, 0)
  r.hup(false)
  t.equal(r.role, 'candidate')
})

t.test('membership survives a restart through the storage', async (t) => {
  const net = withLearner()
  const restarted = net.restart(2)
  t.same(restarted.node.status().confState, { voters: [1, 2, 3], learners: [4] })
})

t.test('a new member is contacted as soon as the leader applies its addition, without waiting for a tick', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.propose(1, 'a')
  net.addNode(4)
  change(net, 1, { type: 'addLearner', nodeId: 4 })
  t.same(net.get(4).applied, ['a'])
  t.same(net.get(4).confState, { voters: [1, 2, 3], learners: [4] })
})
