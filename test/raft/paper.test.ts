// Tests that follow the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", extended version), in the manner of
// etcd's raft_paper_test.go: each test quotes the rule it checks.
import t from 'tap'
import { NONE, type Message, type Raft } from '../../src/raft/index.js'
import { entriesWithTerms, entry, msg, newRaft, persist, readMessages, sortByTo, storageWith, tickUntilElection, type RaftOptions } from './helpers.js'
import { bytes, Network } from './network.js'

const DATA = new TextEncoder().encode('some data')

/** A leader of three whose followers acknowledged its empty entry (they are in replicate state). */
function leaderOf3(options: RaftOptions = {}): Raft {
  const r = newRaft(1, [1, 2, 3], options)
  r.becomeCandidate()
  r.becomeLeader()
  readMessages(r)
  for (const id of [2, 3]) ack(r, id, r.log.lastIndex())
  readMessages(r)
  return r
}

/** Acknowledges from `from` everything the leader sent it. */
function ack(r: Raft, from: number, index: number): void {
  r.step(msg({ type: 'appResp', from, to: r.id, term: r.term, index }))
}

t.test('§5.1 "If one server\'s current term is smaller than the other\'s, then it updates its current term to the larger value. If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state."', async (t) => {
  for (const role of ['follower', 'candidate', 'leader'] as const) {
    const r = newRaft(1, [1, 2, 3])
    if (role === 'follower') r.becomeFollower(1, 2)
    if (role === 'candidate') r.becomeCandidate()
    if (role === 'leader') {
      r.becomeCandidate()
      r.becomeLeader()
    }
    r.step(msg({ type: 'app', from: 2, to: 1, term: 2 }))
    t.equal(r.term, 2, `${role}: term updated`)
    t.equal(r.role, 'follower', `${role}: reverts to follower`)
  }
})

t.test('§5.1 "If a server receives a request with a stale term number, it rejects the request."', async (t) => {
  const r = newRaft(1, [1, 2, 3], {}, storageWith([1, 2, 3], entriesWithTerms(1)))
  r.becomeFollower(2, NONE)
  r.step(msg({ type: 'app', from: 2, to: 1, term: 1, index: 1, logTerm: 1, entries: [entry(2, 1)], commit: 2 }))
  t.equal(r.log.lastIndex(), 1, 'the stale append is not applied')
  t.equal(r.log.committed, 0, 'nor its commit index')
  t.equal(r.lead, NONE, 'the stale sender is not taken as leader')
  t.same(readMessages(r), [], 'without check-quorum or pre-vote there is no answer')

  // With check-quorum, the stale leader is told the newer term so it steps down.
  const q = newRaft(1, [1, 2, 3], { checkQuorum: true })
  q.becomeFollower(2, NONE)
  q.step(msg({ type: 'app', from: 2, to: 1, term: 1 }))
  const out = readMessages(q)
  t.equal(out.length, 1)
  t.equal(out[0]!.type, 'appResp')
  t.equal(out[0]!.term, 2, 'the answer carries the newer term')
})

t.test('§5.2 "When servers start up, they begin as followers."', async (t) => {
  const r = newRaft(1, [1, 2, 3])
  t.equal(r.role, 'follower')
  t.equal(r.lead, NONE)
})

t.test('§5.2 "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all followers in order to maintain their authority."', async (t) => {
  const r = leaderOf3()
  readMessages(r)
  for (let i = 0; i < r.cfg.heartbeatTicks; i++) r.tick()
  const out = sortByTo(readMessages(r))
  t.same(
    out.map((m) => [m.type, m.to, m.term, m.entries.length]),
    [
      ['heartbeat', 2, 1, 0],
      ['heartbeat', 3, 1, 0],
    ],
  )
})

t.test('§5.2 "If a follower receives no communication over a period of time called the election timeout, then it assumes there is no viable leader and begins an election. To begin an election, a follower increments its current term and transitions to candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of the other servers in the cluster." (also from candidate: "each candidate restarts its randomized election timeout at the start of an election")', async (t) => {
  for (const start of ['follower', 'candidate'] as const) {
    const r = newRaft(1, [1, 2, 3])
    if (start === 'candidate') r.becomeCandidate()
    const termBefore = r.term
    for (let i = 0; i < 2 * r.cfg.electionTicks; i++) r.tick()
    t.equal(r.term, termBefore + 1, `${start}: term incremented`)
    t.equal(r.role, 'candidate', `${start}: is candidate`)
    t.equal(r.vote, 1, `${start}: voted for itself`)
    const out = sortByTo(readMessages(r))
    t.same(
      out.map((m) => [m.type, m.to, m.term]),
      [
        ['vote', 2, termBefore + 1],
        ['vote', 3, termBefore + 1],
      ],
      `${start}: RequestVote to every other server`,
    )
  }
})

t.test('§5.2 "A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term." ... "If many followers become candidates at the same time, votes could be split so that no candidate obtains a majority."', async (t) => {
  const cases: Array<{ size: number; votes: Record<number, boolean>; role: Raft['role'] }> = [
    { size: 1, votes: {}, role: 'leader' },
    { size: 3, votes: { 2: true, 3: true }, role: 'leader' },
    { size: 3, votes: { 2: true }, role: 'leader' },
    { size: 5, votes: { 2: true, 3: true, 4: true, 5: true }, role: 'leader' },
    { size: 5, votes: { 2: true, 3: true }, role: 'leader' },
    { size: 3, votes: {}, role: 'candidate' },
    { size: 5, votes: { 2: true }, role: 'candidate' },
    { size: 5, votes: { 2: false, 3: false }, role: 'candidate' },
    { size: 3, votes: { 2: false, 3: false }, role: 'follower' },
    { size: 5, votes: { 2: false, 3: false, 4: false }, role: 'follower' },
  ]
  for (const c of cases) {
    const ids = Array.from({ length: c.size }, (_, i) => i + 1)
    const r = newRaft(1, ids)
    r.hup(false)
    for (const [id, granted] of Object.entries(c.votes)) {
      r.step(msg({ type: 'voteResp', from: Number(id), to: 1, term: r.term, reject: !granted }))
    }
    t.equal(r.role, c.role, `size ${c.size} votes ${JSON.stringify(c.votes)}`)
    t.equal(r.term, 1)
  }
})

t.test('§5.2 "Each server will vote for at most one candidate in a given term, on a first-come-first-served basis."', async (t) => {
  const cases = [
    { vote: NONE, from: 2, reject: false },
    { vote: NONE, from: 3, reject: false },
    { vote: 2, from: 2, reject: false },
    { vote: 3, from: 3, reject: false },
    { vote: 2, from: 3, reject: true },
    { vote: 3, from: 2, reject: true },
  ]
  for (const c of cases) {
    const r = newRaft(1, [1, 2, 3])
    r.becomeFollower(1, NONE)
    r.vote = c.vote
    r.step(msg({ type: 'vote', from: c.from, to: 1, term: 1, index: 0, logTerm: 0 }))
    const out = readMessages(r)
    t.same(
      out.map((m) => [m.type, m.to, m.reject]),
      [['voteResp', c.from, c.reject]],
      `voted for ${c.vote}, request from ${c.from}`,
    )
  }
})

t.test('§5.2 "While waiting for votes, a candidate may receive an AppendEntries RPC from another server claiming to be leader. If the leader\'s term (included in its RPC) is at least as large as the candidate\'s current term, then the candidate recognizes the leader as legitimate and returns to follower state."', async (t) => {
  for (const leaderTerm of [1, 2]) {
    const r = newRaft(1, [1, 2, 3])
    r.hup(false)
    t.equal(r.role, 'candidate')
    r.step(msg({ type: 'app', from: 2, to: 1, term: leaderTerm }))
    t.equal(r.role, 'follower', `leader term ${leaderTerm}`)
    t.equal(r.term, leaderTerm)
    t.equal(r.lead, 2)
  }
})

t.test('§5.2 "Raft uses randomized election timeouts to ensure that split votes are rare": a timeout is drawn from [electionTimeout, 2 * electionTimeout)', async (t) => {
  const r = newRaft(1, [1, 2, 3])
  const seen = new Set<number>()
  for (let round = 0; round < 200; round++) {
    r.becomeFollower(r.term + 1, NONE)
    let ticks = 0
    while (r.role === 'follower' && ticks < 3 * r.cfg.electionTicks) {
      r.tick()
      ticks++
    }
    seen.add(ticks)
  }
  const timeouts = [...seen].sort((a, b) => a - b)
  t.ok(timeouts[0]! >= r.cfg.electionTicks, `shortest timeout ${timeouts[0]}`)
  t.ok(timeouts[timeouts.length - 1]! < 2 * r.cfg.electionTicks, `longest timeout ${timeouts[timeouts.length - 1]}`)
  t.equal(timeouts.length, r.cfg.electionTicks, 'every value of the range occurs')
})

t.test('§5.2 "In most cases only a single server (follower or candidate) will time out before the leader is elected."', async (t) => {
  const ids = [1, 2, 3, 4, 5]
  const rafts = ids.map((id) => newRaft(id, ids))
  const rounds = 500
  let conflicts = 0
  for (let round = 0; round < rounds; round++) {
    for (const r of rafts) r.becomeFollower(r.term + 1, NONE)
    let timedOut = 0
    for (let tick = 0; tick < 2 * 10 && timedOut === 0; tick++) {
      for (const r of rafts) {
        r.tick()
        if (r.role !== 'follower') timedOut++
      }
    }
    if (timedOut > 1) conflicts++
  }
  t.ok(conflicts / rounds < 0.3, `${conflicts} of ${rounds} rounds had simultaneous timeouts`)
})

t.test('§5.3 "Once a leader has been elected, it begins servicing client requests. ... The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers to replicate the entry."', async (t) => {
  const r = leaderOf3()
  const li = r.log.lastIndex()
  readMessages(r)
  const result = r.propose([DATA])
  t.ok(result.ok)
  t.equal(r.log.lastIndex(), li + 1, 'appended to its own log')
  const out = sortByTo(readMessages(r))
  t.same(
    out.map((m) => [m.type, m.to, m.index, m.logTerm, m.entries.map((e) => [e.index, e.term])]),
    [
      ['app', 2, li, 1, [[li + 1, 1]]],
      ['app', 3, li, 1, [[li + 1, 1]]],
    ],
  )
})

t.test('§5.3 "When the entry has been safely replicated, the leader applies the entry to its state machine and returns the result of that execution to the client. ... The leader keeps track of the highest index it knows to be committed, and it includes that index in future AppendEntries RPCs"', async (t) => {
  const r = leaderOf3()
  r.propose([DATA])
  const li = r.log.lastIndex()
  readMessages(r)
  ack(r, 2, li)
  t.equal(r.log.committed, li, 'committed once a majority has it')
  const committed = r.log.nextCommittedEntries(Infinity)
  t.same(
    committed.map((e) => e.index),
    [li - 1, li],
    'the empty entry and the proposal are ready to apply',
  )
  const out = sortByTo(readMessages(r))
  t.ok(out.length > 0 && out.every((m) => m.type === 'app' && m.commit === li), 'followers are told the new commit index')
})

t.test('broadcastCommit false: a new commit index goes out with the next append and every heartbeat, not in an append of its own', async (t) => {
  const r = leaderOf3({ broadcastCommit: false })
  r.propose([DATA])
  const li = r.log.lastIndex()
  readMessages(r)
  ack(r, 2, li)
  t.equal(r.log.committed, li, 'committed once a majority has it')
  t.same(readMessages(r), [], 'no append is sent only to announce the commit')
  r.propose([DATA])
  const appends = sortByTo(readMessages(r))
  t.same(
    appends.map((m) => [m.type, m.to, m.commit, m.entries.length]),
    [
      ['app', 2, li, 1],
      ['app', 3, li, 1],
    ],
    'the next append carries it',
  )
  r.tick()
  const beats = sortByTo(readMessages(r)).filter((m) => m.type === 'heartbeat')
  t.same(
    beats.map((m) => [m.to, m.commit]),
    [
      [2, li],
      [3, li - 1],
    ],
    'heartbeats carry it, up to what each follower holds',
  )
})

t.test('§5.3 "A log entry is committed once the leader that created the entry has replicated it on a majority of the servers."', async (t) => {
  const cases: Array<{ size: number; acks: number[]; committed: boolean }> = [
    { size: 1, acks: [], committed: true },
    { size: 3, acks: [], committed: false },
    { size: 3, acks: [2], committed: true },
    { size: 3, acks: [2, 3], committed: true },
    { size: 5, acks: [], committed: false },
    { size: 5, acks: [2], committed: false },
    { size: 5, acks: [2, 3], committed: true },
    { size: 5, acks: [2, 3, 4, 5], committed: true },
  ]
  for (const c of cases) {
    const ids = Array.from({ length: c.size }, (_, i) => i + 1)
    const r = newRaft(1, ids)
    r.becomeCandidate()
    r.becomeLeader()
    r.propose([DATA])
    const li = r.log.lastIndex()
    for (const id of c.acks) ack(r, id, li)
    t.equal(r.log.committed === li, c.committed, `size ${c.size} acks ${JSON.stringify(c.acks)}`)
  }
})

t.test('§5.3 "When the leader commits an entry, it also commits all preceding entries in the leader\'s log, including entries created by previous leaders."', async (t) => {
  const previous = [entriesWithTerms(1), entriesWithTerms(1, 2), entriesWithTerms(1, 1, 2)]
  for (const log of previous) {
    const storage = storageWith([1, 2, 3], log)
    storage.setHardState({ term: 2, vote: NONE, commit: 0 })
    const r = newRaft(1, [1, 2, 3], {}, storage)
    r.becomeCandidate()
    r.becomeLeader()
    r.propose([DATA])
    const li = r.log.lastIndex()
    ack(r, 2, li)
    t.equal(r.log.committed, li)
    t.same(
      r.log.nextCommittedEntries(Infinity).map((e) => e.index),
      Array.from({ length: li }, (_, i) => i + 1),
      `log of terms ${log.map((e) => e.term).join(',')}`,
    )
  }
})

t.test('§5.3 "Once a follower learns that a log entry is committed, it applies the entry to its state machine (in log order)."', async (t) => {
  const cases = [
    { entries: [entry(1, 1, DATA)], commit: 1 },
    { entries: [entry(1, 1, DATA), entry(2, 1, DATA)], commit: 2 },
    { entries: [entry(1, 1, DATA), entry(2, 1, DATA)], commit: 1 },
  ]
  for (const c of cases) {
    const r = newRaft(1, [1, 2, 3])
    r.becomeFollower(1, 2)
    r.step(msg({ type: 'app', from: 2, to: 1, term: 1, index: 0, logTerm: 0, entries: c.entries, commit: c.commit }))
    t.equal(r.log.committed, c.commit)
    t.same(
      r.log.nextCommittedEntries(Infinity).map((e) => e.index),
      c.entries.slice(0, c.commit).map((e) => e.index),
    )
  }
})

t.test('§5.3 "When sending an AppendEntries RPC, the leader includes the index and term of the entry in its log that immediately precedes the new entries. If the follower does not find an entry in its log with the same index and term, then it refuses the new entries."', async (t) => {
  const cases = [
    { index: 0, logTerm: 0, reject: false, respIndex: 1 }, // match with committed entries
    { index: 1, logTerm: 1, reject: false, respIndex: 1 },
    { index: 2, logTerm: 2, reject: false, respIndex: 2 }, // match with uncommitted entries
    { index: 1, logTerm: 2, reject: true, respIndex: 1 }, // unmatching term
    { index: 3, logTerm: 3, reject: true, respIndex: 3 }, // unexisting entry
  ]
  for (const c of cases) {
    const storage = storageWith([1, 2, 3], entriesWithTerms(1, 2))
    storage.setHardState({ term: 0, vote: NONE, commit: 1 })
    const r = newRaft(1, [1, 2, 3], {}, storage)
    r.becomeFollower(2, 2)
    r.step(msg({ type: 'app', from: 2, to: 1, term: 2, index: c.index, logTerm: c.logTerm }))
    const out = readMessages(r)
    t.equal(out.length, 1)
    t.equal(out[0]!.type, 'appResp')
    t.equal(out[0]!.reject, c.reject, `append after (${c.index}, ${c.logTerm})`)
    t.equal(out[0]!.index, c.respIndex)
    if (c.reject) t.ok(out[0]!.rejectHint <= 2, 'the hint points at most at our last index')
  }
})

t.test('§5.3 "If an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it; append any new entries not already in the log."', async (t) => {
  const cases = [
    { index: 2, logTerm: 2, entries: [entry(3, 3)], want: [1, 2, 3] },
    { index: 1, logTerm: 1, entries: [entry(2, 3), entry(3, 4)], want: [1, 3, 4] },
    { index: 0, logTerm: 0, entries: [entry(1, 1)], want: [1, 2] },
    { index: 0, logTerm: 0, entries: [entry(1, 3)], want: [3] },
  ]
  for (const c of cases) {
    const r = newRaft(1, [1, 2, 3], {}, storageWith([1, 2, 3], entriesWithTerms(1, 2)))
    r.becomeFollower(2, 2)
    r.step(msg({ type: 'app', from: 2, to: 1, term: 2, index: c.index, logTerm: c.logTerm, entries: c.entries }))
    const terms: number[] = []
    for (let i = 1; i <= r.log.lastIndex(); i++) terms.push(r.log.term(i))
    t.same(terms, c.want, `append ${JSON.stringify(c.entries.map((e) => [e.index, e.term]))} after (${c.index}, ${c.logTerm})`)
  }
})

t.test('§5.3 "The leader handles inconsistencies by forcing the followers\' logs to duplicate its own." (the follower logs of Figure 7)', async (t) => {
  const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  }
  for (const [name, terms] of Object.entries(followers)) {
    const leaderStorage = storageWith([1, 2, 3], entriesWithTerms(...leaderTerms))
    leaderStorage.setHardState({ term: 8, vote: NONE, commit: leaderTerms.length })
    const lead = newRaft(1, [1, 2, 3], {}, leaderStorage)
    const followerStorage = storageWith([1, 2, 3], entriesWithTerms(...terms))
    followerStorage.setHardState({ term: 7, vote: NONE, commit: 0 })
    const follower = newRaft(2, [1, 2, 3], {}, followerStorage)
    lead.hup(false)
    // Node 3 grants its vote; node 2 answers for itself below.
    lead.step(msg({ type: 'voteResp', from: 3, to: 1, term: lead.term }))
    const nodes = new Map([
      [1, { r: lead, s: leaderStorage }],
      [2, { r: follower, s: followerStorage }],
    ])
    let queue: Message[] = readMessages(lead)
    for (let round = 0; round < 100 && queue.length > 0; round++) {
      const next: Message[] = []
      for (const m of queue) {
        const target = nodes.get(m.to)
        if (target === undefined) continue
        target.r.step(m)
        persist(target.r, target.s)
        next.push(...readMessages(target.r))
      }
      persist(lead, leaderStorage)
      queue = next
    }
    t.equal(lead.role, 'leader', `${name}: node 1 leads`)
    const termsOf = (r: Raft): number[] => Array.from({ length: r.log.lastIndex() }, (_, i) => r.log.term(i + 1))
    t.same(termsOf(follower), termsOf(lead), `${name}: the follower's log duplicates the leader's`)
    t.equal(follower.log.committed, lead.log.committed, `${name}: and commits alike`)
  }
})

t.test('§5.2/§5.4.1 "RequestVote RPC ... includes information about the candidate\'s log": the index and term of its last entry', async (t) => {
  for (const terms of [[1], [1, 2], [1, 1, 3]]) {
    const storage = storageWith([1, 2, 3], entriesWithTerms(...terms))
    const r = newRaft(1, [1, 2, 3], {}, storage)
    tickUntilElection(r)
    const out = sortByTo(readMessages(r))
    t.same(
      out.map((m) => [m.type, m.to, m.index, m.logTerm]),
      [
        ['vote', 2, terms.length, terms[terms.length - 1]],
        ['vote', 3, terms.length, terms[terms.length - 1]],
      ],
    )
  }
})

t.test('§5.4.1 "The RequestVote RPC implements this restriction: the RPC includes information about the candidate\'s log, and the voter denies its vote if its own log is more up-to-date than that of the candidate." ... "If the logs have last entries with different terms, then the log with the later term is more up-to-date. If the logs end with the same term, then whichever log is longer is more up-to-date."', async (t) => {
  const cases = [
    // same last term
    { log: [1], index: 1, logTerm: 1, reject: false },
    { log: [1], index: 2, logTerm: 1, reject: false },
    { log: [1, 1], index: 1, logTerm: 1, reject: true },
    // candidate's last term is higher
    { log: [1], index: 1, logTerm: 2, reject: false },
    { log: [1, 1], index: 1, logTerm: 2, reject: false },
    // voter's last term is higher
    { log: [2], index: 1, logTerm: 1, reject: true },
    { log: [2], index: 2, logTerm: 1, reject: true },
    { log: [1, 2], index: 1, logTerm: 1, reject: true },
  ]
  for (const c of cases) {
    const r = newRaft(1, [1, 2], {}, storageWith([1, 2], entriesWithTerms(...c.log)))
    r.step(msg({ type: 'vote', from: 2, to: 1, term: 3, index: c.index, logTerm: c.logTerm }))
    const out = readMessages(r)
    t.same(
      out.map((m) => [m.type, m.reject]),
      [['voteResp', c.reject]],
      `voter log ${JSON.stringify(c.log)}, candidate last (${c.index}, ${c.logTerm})`,
    )
  }
})

t.test('§5.4.2 "Raft never commits log entries from previous terms by counting replicas. Only log entries from the leader\'s current term are committed by counting replicas."', async (t) => {
  const cases = [
    { ackIndex: 1, committed: 0 },
    { ackIndex: 2, committed: 0 },
    { ackIndex: 3, committed: 3 }, // the leader's empty entry of its own term
  ]
  for (const c of cases) {
    const storage = storageWith([1, 2, 3], entriesWithTerms(1, 2))
    storage.setHardState({ term: 2, vote: NONE, commit: 0 })
    const r = newRaft(1, [1, 2, 3], {}, storage)
    r.becomeCandidate()
    r.becomeLeader()
    t.equal(r.log.lastIndex(), 3)
    ack(r, 2, c.ackIndex)
    t.equal(r.log.committed, c.committed, `a follower acknowledged up to ${c.ackIndex}`)
  }
})

t.test('§5.2 "The third possible outcome is that a candidate neither wins nor loses the election ... each candidate will time out and start a new election by incrementing its term"', async (t) => {
  const ids = [1, 2, 3, 4]
  const rafts = new Map(ids.map((id) => [id, newRaft(id, ids)]))
  // Split vote: 1 and 3 campaign at once; 2 votes for 1, 4 for 3.
  rafts.get(1)!.hup(false)
  rafts.get(3)!.hup(false)
  for (const [voter, candidate] of [
    [2, 1],
    [4, 3],
  ] as const) {
    const r = rafts.get(voter)!
    r.step(msg({ type: 'vote', from: candidate, to: voter, term: 1, index: 0, logTerm: 0 }))
    for (const m of readMessages(r)) rafts.get(m.to)!.step(m)
  }
  t.equal(rafts.get(1)!.role, 'candidate', 'no majority for node 1')
  t.equal(rafts.get(3)!.role, 'candidate', 'no majority for node 3')
  const c = rafts.get(1)!
  for (let i = 0; i < 2 * c.cfg.electionTicks && c.term === 1; i++) c.tick()
  t.equal(c.term, 2, 'a new election in a new term')
  t.equal(c.role, 'candidate')
})

t.test('§5.3 "If followers crash or run slowly, or if network packets are lost, the leader retries AppendEntries RPCs indefinitely until all followers eventually store all log entries."', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  net.dropType('app')
  net.get(1).node.propose(bytes('retry-me'))
  net.stabilize()
  t.same(net.get(2).applied, [], 'the append was lost')
  net.allowType('app')
  net.tickAll(2)
  t.same(net.get(2).applied, ['retry-me'])
  t.same(net.get(3).applied, ['retry-me'])
})

t.test('§5.5 "Raft RPCs are idempotent, so this causes no harm": a repeated AppendEntries changes nothing', async (t) => {
  const r = newRaft(1, [1, 2, 3])
  r.becomeFollower(1, 2)
  const append = msg({ type: 'app', from: 2, to: 1, term: 1, index: 0, logTerm: 0, commit: 1, entries: [entry(1, 1, DATA), entry(2, 1, DATA)] })
  r.step(append)
  const first = readMessages(r)
  r.step(append)
  const second = readMessages(r)
  t.equal(r.log.lastIndex(), 2)
  t.equal(r.log.committed, 1)
  t.same(
    first.map((m) => [m.type, m.index, m.reject]),
    [['appResp', 2, false]],
  )
  t.same(
    second.map((m) => [m.type, m.reject]),
    [['appResp', false]],
    'the repeat is acknowledged, not rejected',
  )
  t.ok(second[0]!.index >= 1, 'and acknowledges at least the committed prefix')
})
