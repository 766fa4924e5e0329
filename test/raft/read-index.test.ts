// Linearizable reads: ReadIndex (Raft thesis §6.4) and the leader lease (§6.4.1).
import t from 'tap'
import { RaftError, type NodeId } from '../../src/raft/index.js'
import { bytes, Network, text } from './network.js'
import { msg, newRaft, readMessages } from './helpers.js'

function readsOf(net: Network, id: NodeId): Array<[number, string]> {
  return net.get(id).readStates.map((rs) => [rs.index, text(rs.requestCtx)])
}

t.test('ReadIndex on the leader: answered with the commit index once a quorum confirmed leadership', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.propose(1, 'x')
  const commit = net.raft(1).log.committed
  t.same(net.get(1).node.readIndex(bytes('r1')), { ok: true })
  t.same(net.raft(1).readStates, [], 'not answered before the heartbeat round')
  net.stabilize()
  t.same(readsOf(net, 1), [[commit, 'r1']])
})

t.test('ReadIndex: many reads in one step share one heartbeat round', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  const before = net.sentLog.length
  for (let i = 0; i < 50; i++) net.get(1).node.readIndex(bytes(`r${i}`))
  net.stabilize()
  const heartbeats = net.sentLog.slice(before).filter((m) => m.type === 'heartbeat')
  t.equal(heartbeats.length, 2, 'one heartbeat per follower')
  t.equal(net.get(1).readStates.length, 50)
})

t.test('ReadIndex: a leader cut off from the quorum never answers', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.isolate(1)
  net.get(1).node.readIndex(bytes('r'))
  net.stabilize()
  for (let i = 0; i < 5; i++) net.tick(1)
  net.stabilize()
  t.same(net.get(1).readStates, [])
})

t.test('ReadIndex: a new leader waits until an entry of its term is committed', async (t) => {
  const r = newRaft(1, [1, 2, 3])
  r.becomeCandidate()
  r.becomeLeader()
  readMessages(r)
  t.same(r.readIndex(bytes('early')), { ok: true })
  r.flush()
  t.same(
    r.msgs.filter((m) => m.type === 'heartbeat'),
    [],
    'no heartbeat round yet: the commit index may be stale',
  )
  r.step(msg({ type: 'appResp', from: 2, to: 1, term: r.term, index: r.log.lastIndex() }))
  const round = readMessages(r).filter((m) => m.type === 'heartbeat')
  t.equal(round.length, 2, 'the commit releases the read into a heartbeat round')
  r.step(msg({ type: 'heartbeatResp', from: 2, to: 1, term: r.term, index: round[0]!.index }))
  t.same(
    r.readStates.map((rs) => [rs.index, text(rs.requestCtx)]),
    [[r.log.committed, 'early']],
  )
})

t.test('ReadIndex on a follower is forwarded to the leader and answered there', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.propose(1, 'x')
  t.same(net.get(2).node.readIndex(bytes('f')), { ok: true })
  net.stabilize()
  t.same(readsOf(net, 2), [[net.raft(1).log.committed, 'f']])
  t.same(net.get(1).readStates, [], 'the leader keeps nothing for itself')
})

t.test('ReadIndex on a node that knows no leader answers NOT_LEADER', async (t) => {
  const net = new Network([1, 2, 3])
  const result = net.get(2).node.readIndex(bytes('f'))
  t.equal(result.ok, false)
  if (!result.ok) t.equal(result.code, 'NOT_LEADER')
})

t.test('ReadIndex: pending reads are bounded (OVERLOADED)', async (t) => {
  const net = new Network([1, 2, 3], { maxPendingReads: 3 })
  net.elect(1)
  net.isolate(1)
  for (let i = 0; i < 3; i++) t.same(net.get(1).node.readIndex(bytes(`r${i}`)), { ok: true })
  const result = net.get(1).node.readIndex(bytes('r3'))
  t.equal(result.ok ? 'ok' : result.code, 'OVERLOADED')
})

t.test('lease-based reads require check-quorum', async (t) => {
  t.throws(() => newRaft(1, [1, 2, 3], { readOnly: 'lease-based', checkQuorum: false }), RaftError)
})

t.test('lease-based: a leader answers at once within its lease and stops once the lease ran out', async (t) => {
  const net = new Network([1, 2, 3], { readOnly: 'lease-based' })
  net.tickAll(10) // a node that just started refuses votes for one election timeout
  net.elect(1)
  net.tickAll(1) // one heartbeat round answered by a quorum starts the lease
  const leader = net.raft(1)
  t.ok(leader.leaseValid())
  net.get(1).node.readIndex(bytes('fast'))
  t.same(
    leader.readStates.map((rs) => text(rs.requestCtx)),
    ['fast'],
    'answered without a heartbeat round',
  )
  net.isolate(1)
  for (let i = 0; i < leader.cfg.leaseTicks; i++) net.tick(1)
  t.notOk(leader.leaseValid(), `lease over after ${leader.cfg.leaseTicks} ticks without a quorum`)
  net.get(1).node.readIndex(bytes('slow'))
  t.same(
    leader.readStates.map((rs) => text(rs.requestCtx)),
    ['fast'],
    'the second read waits for a heartbeat round',
  )
  t.ok(leader.cfg.leaseTicks < leader.cfg.electionTicks, 'the lease is shorter than the followers\' vote refusal')
})

t.test('lease-based: a leader that started a transfer no longer serves lease reads', async (t) => {
  const net = new Network([1, 2, 3], { readOnly: 'lease-based' })
  net.tickAll(10)
  net.elect(1)
  net.tickAll(1)
  t.ok(net.raft(1).leaseValid())
  net.dropType('timeoutNow')
  net.get(1).node.transferLeadership(2)
  net.stabilize()
  t.notOk(net.raft(1).leaseValid())
})

t.test('lease-based: a node that just started refuses to vote for one election timeout', async (t) => {
  const r = newRaft(1, [1, 2, 3], { readOnly: 'lease-based', checkQuorum: true })
  r.step(msg({ type: 'vote', from: 2, to: 1, term: 5, index: 0, logTerm: 0 }))
  t.equal(r.term, 0)
  t.same(readMessages(r), [])
  for (let i = 0; i < r.cfg.electionTicks; i++) r.tick()
  r.becomeFollower(r.term, 0)
  r.step(msg({ type: 'vote', from: 2, to: 1, term: 5, index: 0, logTerm: 0 }))
  t.equal(r.vote, 2)
})
