// The hard cases, end to end on the in-memory network.
import t from 'tap'
import { bytes, Network } from './network.js'

t.test('a partitioned old leader: its uncommitted entries are discarded, the majority side goes on', async (t) => {
  const net = new Network([1, 2, 3, 4, 5])
  net.elect(1)
  net.propose(1, 'before')
  const oldTerm = net.raft(1).term
  net.partition([1, 2], [3, 4, 5])
  t.ok(net.get(1).node.propose(bytes('lost')).ok, 'the old leader still accepts a proposal')
  net.stabilize()
  net.tickAll(40)
  const leaders = net.leaders().filter((id) => id >= 3)
  t.equal(leaders.length, 1, 'the majority side elected a leader')
  const newLeader = leaders[0]!
  t.ok(net.raft(newLeader).term > oldTerm)
  net.propose(newLeader, 'kept')
  t.not(net.raft(1).role, 'leader', 'check-quorum stepped the old leader down meanwhile')
  net.heal()
  net.tickAll(5)
  for (const id of [1, 2, 3, 4, 5]) {
    t.same(net.get(id).applied, ['before', 'kept'], `node ${id} applied only committed entries`)
  }
  t.same(net.leaders(), [newLeader])
})

t.test('a leader that loses its quorum steps down (check-quorum), and proposals then get NOT_LEADER', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.partition([1], [2, 3])
  net.tickAll(20)
  t.equal(net.raft(1).role, 'follower')
  const result = net.get(1).node.propose(bytes('x'))
  t.equal(result.ok ? 'ok' : result.code, 'NOT_LEADER')
})

t.test('pre-vote stops a disruptive rejoin: a node back from a partition does not depose the leader', async (t) => {
  const net = new Network([1, 2, 3, 4, 5])
  net.elect(1)
  const term = net.raft(1).term
  net.partition([5], [1, 2, 3, 4])
  net.tickAll(200)
  t.equal(net.raft(5).term, term, 'pre-elections failed without raising the term')
  t.equal(net.raft(5).role === 'preCandidate' || net.raft(5).role === 'follower', true)
  net.propose(1, 'meanwhile')
  net.heal()
  net.tickAll(5)
  t.same(net.leaders(), [1])
  t.equal(net.raft(1).term, term)
  t.same(net.get(5).applied, ['meanwhile'], 'the rejoined node catches up')
})

t.test('a snapshot is sent to a follower that lags behind the compacted log', async (t) => {
  const net = new Network([1, 2, 3], { snapshotChunkBytes: 64 })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 50; i++) net.propose(1, `entry-${i}`)
  net.compact(1)
  net.compact(2)
  net.propose(1, 'tail')
  net.heal()
  net.tickAll(3)
  t.equal(net.get(3).restoredSnapshots.length, 1)
  t.same(net.get(3).applied, net.get(1).applied)
  t.equal(net.get(3).applied.length, 51)
})

t.test('membership change during a partition: the majority side changes membership, the minority cannot', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.addNode(4)
  // Node 3 is cut off; 1 and 2 add node 4 as learner, then as voter (quorum becomes 3 of 4).
  net.isolate(3)
  net.cutLink(4, 3)
  net.get(1).node.proposeConfChange({ type: 'addLearner', nodeId: 4 })
  net.stabilize()
  t.ok(net.get(1).node.proposeConfChange({ type: 'addVoter', nodeId: 4 }).ok)
  net.stabilize()
  t.same(net.get(1).confState, { voters: [1, 2, 3, 4], learners: [] })
  net.propose(1, 'with-4')
  t.same(net.get(4).applied, ['with-4'])
  // Now the leader is cut off alone; it proposes another change that can never commit.
  net.heal()
  net.tickAll(2)
  t.same(net.get(3).confState, { voters: [1, 2, 3, 4], learners: [] }, 'node 3 learned the change after the partition')
  net.partition([1], [2, 3, 4])
  const minority = net.get(1).node.proposeConfChange({ type: 'removeVoter', nodeId: 2 })
  t.ok(minority.ok, 'the proposal is accepted locally')
  net.tickAll(40)
  t.same(net.get(1).confState.voters, [1, 2, 3, 4], 'but it never commits on the minority side')
  t.not(net.raft(1).role, 'leader', 'and the isolated leader stepped down')
  const majorityLeaders = net.leaders()
  t.equal(majorityLeaders.length, 1, 'the majority side (3 of 4 voters) elected a leader')
  net.propose(majorityLeaders[0]!, 'majority')
  net.heal()
  net.tickAll(10)
  const leaders = net.leaders()
  t.equal(leaders.length, 1)
  net.propose(leaders[0]!, 'healed')
  for (const id of [1, 2, 3, 4]) {
    t.same(net.get(id).confState.voters, [1, 2, 3, 4], `node ${id} kept the committed membership`)
    t.same(net.get(id).applied.slice(-3), ['with-4', 'majority', 'healed'], `node ${id} applied the same entries`)
  }
})

t.test('leadership transfer to a lagging node: caught up first, then it leads with every entry', async (t) => {
  const net = new Network([1, 2, 3], { snapshotChunkBytes: 32 })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 20; i++) net.propose(1, `e${i}`)
  net.compact(1)
  net.heal()
  t.same(net.get(1).node.transferLeadership(3), { ok: true })
  net.tickAll(5)
  t.same(net.leaders(), [3])
  t.equal(net.get(3).applied.length, 20, 'the new leader has all committed entries (via a snapshot)')
  net.propose(3, 'under-3')
  t.equal(net.get(1).applied.at(-1), 'under-3')
})
