// Proposals: the leader hint, batching, flow control and the uncommitted bound.
import t from 'tap'
import { bytes, Network } from './network.js'

t.test('a proposal on a follower is answered NOT_LEADER with the leader hint', async (t) => {
  const net = new Network([1, 2, 3])
  const before = net.get(2).node.propose(bytes('x'))
  t.same(before.ok ? 'ok' : [before.code, before.leaderId], ['NOT_LEADER', undefined], 'no leader known yet')
  net.elect(1)
  const after = net.get(2).node.propose(bytes('x'))
  t.same(after.ok ? 'ok' : [after.code, after.leaderId], ['NOT_LEADER', 1])
  t.same(net.inFlight, [], 'the proposal is not forwarded')
})

t.test('a proposal answers the index range it occupies', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  const last = net.raft(1).log.lastIndex()
  const result = net.get(1).node.proposeBatch([bytes('a'), bytes('b'), bytes('c')])
  t.same(result, { ok: true, term: net.raft(1).term, firstIndex: last + 1, lastIndex: last + 3 })
})

t.test('batching: 1000 proposals give one append message per follower in one Ready', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  const payload = new Uint8Array(100)
  const batch = Array.from({ length: 1000 }, () => payload)
  t.ok(net.get(1).node.proposeBatch(batch).ok)
  const rd = net.get(1).node.ready()
  const apps = rd.messages.filter((m) => m.type === 'app')
  t.same(
    apps.map((m) => [m.to, m.entries.length]).sort(),
    [
      [2, 1000],
      [3, 1000],
    ],
  )
  net.get(1).node.advance()
})

t.test('batching: separate propose calls before a Ready also share one append per follower', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  for (let i = 0; i < 100; i++) net.get(1).node.propose(bytes(`p${i}`))
  const rd = net.get(1).node.ready()
  const apps = rd.messages.filter((m) => m.type === 'app')
  t.same(apps.map((m) => m.entries.length), [100, 100])
})

t.test('flow control: one append carries at most maxSizePerMsgBytes (but at least one entry)', async (t) => {
  const net = new Network([1, 2, 3], { maxSizePerMsgBytes: 1000 })
  net.elect(1)
  net.propose(1, ...Array.from({ length: 40 }, (_, i) => `entry-${i}`.padEnd(100, '.')))
  const apps = net.sentLog.filter((m) => m.type === 'app' && m.entries.length > 0)
  t.ok(apps.length >= 8, `${apps.length} append messages`)
  for (const m of apps) {
    const sizeBytes = m.entries.reduce((n, e) => n + e.data.byteLength + 24, 0)
    t.ok(m.entries.length === 1 || sizeBytes <= 1000, `message of ${sizeBytes} bytes`)
  }
  t.equal(net.get(3).applied.length, 40)
  const huge = 'h'.repeat(5000)
  net.propose(1, huge)
  t.same(net.get(2).applied.at(-1), huge, 'an entry larger than the limit still goes, alone')
})

t.test('flow control: at most maxInflightMsgs unacknowledged appends per follower', async (t) => {
  const net = new Network([1, 2, 3], { maxInflightMsgs: 4 })
  net.elect(1)
  net.dropType('appResp')
  const before = net.sentLog.length
  for (let i = 0; i < 20; i++) {
    net.get(1).node.propose(bytes(`p${i}`))
    net.processReady(1)
  }
  const appsTo2 = net.sentLog.slice(before).filter((m) => m.type === 'app' && m.to === 2)
  t.equal(appsTo2.length, 4)
  net.allowType('appResp')
  net.stabilize()
  net.tickAll(1)
  t.equal(net.get(2).applied.length, 20, 'the rest follows once acknowledgements flow')
})

t.test('uncommitted proposals are bounded: OVERLOADED until the backlog commits', async (t) => {
  const net = new Network([1, 2, 3], { maxUncommittedEntriesBytes: 1000 })
  net.elect(1)
  net.isolate(1)
  const big = new Uint8Array(600)
  t.ok(net.get(1).node.propose(big).ok, 'the first proposal is always admitted')
  const second = net.get(1).node.propose(big)
  t.equal(second.ok ? 'ok' : second.code, 'OVERLOADED')
  net.heal()
  net.tickAll(1)
  t.ok(net.get(1).node.propose(big).ok, 'admitted again once committed and applied')
})

t.test('an empty batch is an invalid argument', async (t) => {
  const net = new Network([1])
  net.elect(1)
  const result = net.get(1).node.proposeBatch([])
  t.equal(result.ok ? 'ok' : result.code, 'INVALID_ARGUMENT')
})

t.test('flow control: a window of lost appends does not stall replication', async (t) => {
  const net = new Network([1, 2, 3], { maxInflightMsgs: 2 })
  net.elect(1)
  net.dropType('app')
  for (let i = 0; i < 6; i++) {
    net.get(1).node.propose(bytes(`lost-${i}`))
    net.stabilize()
  }
  t.equal(net.get(1).node.status().progress.get(2)?.inflightMsgs, 2, 'the window is full of lost appends')
  net.allowType('app')
  net.tickAll(3)
  t.equal(net.get(2).applied.length, 6, 'heartbeats reopen the window and the follower catches up')
})
