// The Raft state machine (etcd's raft.go): consumes messages and ticks,
// produces messages, log entries and state for the caller to persist. No I/O,
// no clock, no randomness other than the injected Rng.
import { encodeConfChange, type ConfChange } from './conf-change.js'
import { resolveConfig, type RaftConfig, type ResolvedRaftConfig } from './config.js'
import { EMPTY_BYTES } from './entries.js'
import { ACCEPTED, RaftError, reject, type ProposeResult, type RaftResult } from './errors.js'
import { LeaderLease } from './leader-lease.js'
import { RaftLog } from './log.js'
import { Progress } from './progress.js'
import { majorityValue, quorumSize, voteResult, type VoteResult } from './quorum.js'
import { ReadQueue, type ReadRequest } from './read-queue.js'
import { SnapshotReceiver } from './snapshot-receiver.js'
import {
  NONE,
  TRANSFER_CONTEXT,
  type ConfState,
  type Entry,
  type EntryType,
  type Message,
  type MessageType,
  type NodeId,
  type RaftRole,
  type ReadState,
  type Snapshot,
} from './types.js'

const NO_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[]

type CampaignKind = 'preElection' | 'election' | 'transfer'

function newMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return { type, from, to, term, logTerm: 0, index: 0, entries: NO_ENTRIES, commit: 0, reject: false, rejectHint: 0 }
}

function isTransferContext(context: Uint8Array | undefined): boolean {
  if (context === undefined || context.byteLength !== TRANSFER_CONTEXT.byteLength) return false
  for (let i = 0; i < context.byteLength; i++) if (context[i] !== TRANSFER_CONTEXT[i]) return false
  return true
}

function sortedUnique(ids: readonly NodeId[]): NodeId[] {
  return [...new Set(ids)].sort((a, b) => a - b)
}

export class Raft {
  readonly id: NodeId
  readonly cfg: ResolvedRaftConfig
  readonly log: RaftLog

  term = 0
  vote: NodeId = NONE
  lead: NodeId = NONE
  role: RaftRole = 'follower'

  /** Progress of every member (voters and learners, self included). Valid on the leader. */
  readonly progress = new Map<NodeId, Progress>()
  voters: NodeId[] = []
  learners: NodeId[] = []

  /** Outgoing messages and completed reads, drained by ready(). */
  msgs: Message[] = []
  readStates: ReadState[] = []

  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0
  /** randomizedElectionTimeout was shortened by forgetLeader (lease-based reads). */
  private leaderLostTimeout = false
  /** Ticks since this instance started: the lease clock. */
  ticks = 0

  leadTransferee: NodeId = NONE
  /** Index of the last conf change proposed; no new one until it is applied. */
  pendingConfIndex = 0
  uncommittedSizeBytes = 0

  private readonly votes = new Map<NodeId, boolean>()
  private appendsPending = false
  private commitPending = false
  private readBroadcastPending = false
  private heartbeatRound = 0
  private readonly reads: ReadQueue
  private readonly lease: LeaderLease
  private readonly snapshotReceiver: SnapshotReceiver
  private readonly voteScratch: number[] = []

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config)
    this.id = this.cfg.id
    this.log = new RaftLog(this.cfg.storage)
    this.reads = new ReadQueue(this.cfg.maxPendingReads)
    this.lease = new LeaderLease(this.cfg.leaseTicks)
    this.snapshotReceiver = new SnapshotReceiver(this.cfg.maxSnapshotBytes)
    const { hardState, confState } = this.cfg.storage.initialState()
    this.applyConfState(confState)
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) {
      if (hardState.commit < this.log.committed || hardState.commit > this.log.lastIndex()) {
        throw new RaftError('INVARIANT', `hard state commit ${hardState.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`)
      }
      this.log.committed = hardState.commit
      this.term = hardState.term
      this.vote = hardState.vote
    }
    if (this.cfg.applied > 0) {
      if (this.cfg.applied > this.log.committed) {
        throw new RaftError('INVALID_CONFIG', `applied ${this.cfg.applied} is past the commit index ${this.log.committed}`)
      }
      if (this.cfg.applied > this.log.applied) this.log.applied = this.cfg.applied
    }
    this.becomeFollower(this.term, NONE)
  }

  // ---------------------------------------------------------------- state

  promotable(): boolean {
    return this.voters.includes(this.id)
  }

  private isSingleVoter(): boolean {
    return this.voters.length === 1 && this.voters[0] === this.id
  }

  private committedInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term
  }

  private resetRandomizedElectionTimeout(): void {
    this.leaderLostTimeout = false
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.rng.nextInt(this.cfg.electionTicks)
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.leadTransferee = NONE
    this.votes.clear()
    const lastIndex = this.log.lastIndex()
    for (const [id, old] of this.progress) {
      const pr = new Progress(lastIndex + 1, this.cfg.maxInflightMsgs, old.isLearner)
      if (id === this.id) {
        pr.match = lastIndex
        pr.recentActive = true
      }
      this.progress.set(id, pr)
    }
    this.pendingConfIndex = 0
    this.uncommittedSizeBytes = 0
    this.appendsPending = false
    this.commitPending = false
    this.readBroadcastPending = false
    this.reads.clear()
    this.lease.reset()
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term)
    this.lead = lead
    this.role = 'follower'
  }

  becomePreCandidate(): void {
    if (this.role === 'leader') throw new RaftError('INVARIANT', 'leader cannot become pre-candidate')
    // Neither the term nor the vote change: a pre-election must not disturb anyone.
    this.votes.clear()
    this.lead = NONE
    this.role = 'preCandidate'
  }

  becomeCandidate(): void {
    if (this.role === 'leader') throw new RaftError('INVARIANT', 'leader cannot become candidate')
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
  }

  becomeLeader(): void {
    if (this.role === 'follower') throw new RaftError('INVARIANT', 'follower cannot become leader')
    this.reset(this.term)
    this.lead = this.id
    this.role = 'leader'
    this.progress.get(this.id)?.becomeReplicate()
    // The empty entry of the new term commits every earlier entry (§5.4.2) and,
    // until it is applied, holds back conf changes: the single-server change
    // safety fix (a leader commits an entry of its term before a conf change).
    const index = this.log.lastIndex() + 1
    this.appendEntries([{ term: this.term, index, type: 'normal', data: EMPTY_BYTES }])
    this.pendingConfIndex = index
  }

  // ---------------------------------------------------------------- time

  tick(): void {
    this.ticks++
    if (this.role === 'leader') this.tickHeartbeat()
    else this.tickElection()
  }

  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0
      this.hup(false)
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0
      if (this.cfg.checkQuorum && !this.quorumRecentlyActive()) {
        this.cfg.logger?.debug('raft: leader lost quorum, stepping down', { id: this.id, term: this.term })
        this.becomeFollower(this.term, NONE)
        return
      }
      if (this.leadTransferee !== NONE) this.leadTransferee = NONE
    }
    this.tickSnapshotTransfers()
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.bcastHeartbeat()
    }
  }

  /** Check-quorum: were a majority of voters heard from since the last check? Resets the marks. */
  private quorumRecentlyActive(): boolean {
    let active = 0
    for (const id of this.voters) {
      const pr = this.progress.get(id)
      if (id === this.id || (pr !== undefined && pr.recentActive)) active++
    }
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false
    return active >= quorumSize(this.voters.length)
  }

  // ---------------------------------------------------------------- elections

  /**
   * This follower's transport saw its leader go away (the connection
   * closed): it forgets that leader, so that it grants votes at once, and
   * with `campaignInTicks` its election timer fires that many ticks from now
   * (never later than it would have). Members that still hear the leader
   * keep refusing votes (inLease), so a link lost alone disrupts nothing.
   *
   * With lease-based reads the leader is kept: the old leader may still
   * serve reads from its lease, which rests on this follower refusing votes
   * for `electionTicks` after it last heard it. Only the campaign moves:
   * with `campaignInTicks` the election timer fires that many ticks after
   * that refusal ends (never later than it would have), instead of at a
   * random point of the next election timeout. Returns whether the leader
   * was forgotten (never with lease-based reads).
   */
  forgetLeader(campaignInTicks?: number): boolean {
    if (this.role !== 'follower' || this.lead === NONE) return false
    if (this.cfg.readOnly === 'lease-based') {
      if (campaignInTicks !== undefined) {
        // Shortens the timeout, not the elapsed ticks: inLease counts those. Hearing the leader again restores it (heardLeader).
        this.randomizedElectionTimeout = Math.min(this.randomizedElectionTimeout, this.cfg.electionTicks + campaignInTicks)
        this.leaderLostTimeout = true
      }
      return false
    }
    this.lead = NONE
    if (campaignInTicks !== undefined) this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - campaignInTicks)
    return true
  }

  hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return
    if (this.hasUnappliedConfChange()) {
      this.cfg.logger?.debug('raft: not campaigning, a committed conf change is not applied yet', { id: this.id })
      return
    }
    if (transfer) this.campaign('transfer')
    else this.campaign(this.cfg.preVote ? 'preElection' : 'election')
  }

  private hasUnappliedConfChange(): boolean {
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex())
    if (lo > this.log.committed) return false
    const entries = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER)
    for (const entry of entries) if (entry.type === 'conf') return true
    return false
  }

  private campaign(kind: CampaignKind): void {
    let voteType: MessageType
    let term: number
    if (kind === 'preElection') {
      this.becomePreCandidate()
      voteType = 'preVote'
      term = this.term + 1 // the term we would campaign in; ours stays
    } else {
      this.becomeCandidate()
      voteType = 'vote'
      term = this.term
    }
    if (this.poll(this.id, true) === 'won') {
      if (kind === 'preElection') this.campaign('election')
      else this.becomeLeader()
      return
    }
    const lastIndex = this.log.lastIndex()
    const lastTerm = this.log.lastTerm()
    for (const id of this.voters) {
      if (id === this.id) continue
      const m = newMessage(voteType, this.id, id, term)
      m.index = lastIndex
      m.logTerm = lastTerm
      if (kind === 'transfer') m.context = TRANSFER_CONTEXT
      this.msgs.push(m)
    }
  }

  private poll(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted)
    let yes = 0
    let no = 0
    for (const voter of this.voters) {
      const v = this.votes.get(voter)
      if (v === true) yes++
      else if (v === false) no++
    }
    return voteResult(this.voters.length, yes, no)
  }

  // ---------------------------------------------------------------- messages in

  step(m: Message): void {
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        if (!isTransferContext(m.context) && this.inLease()) {
          // We heard from a leader within the election timeout: ignore a
          // disruptive candidate (check-quorum's leader stickiness).
          return
        }
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // A pre-vote never changes terms; a granted pre-vote answers in the future term.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from)
      } else {
        this.becomeFollower(m.term, NONE)
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'app' || m.type === 'heartbeat')) {
        // A stale leader (e.g. after a partition) learns our term and steps
        // down; without this, pre-vote or check-quorum could leave it stranded.
        this.msgs.push(newMessage('appResp', this.id, m.from, this.term))
      } else if (m.type === 'preVote') {
        const resp = newMessage('preVoteResp', this.id, m.from, this.term)
        resp.reject = true
        this.msgs.push(resp)
      }
      return
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m)
      return
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m)
        return
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m)
        return
      case 'follower':
        this.stepFollower(m)
        return
    }
  }

  private inLease(): boolean {
    if (!this.cfg.checkQuorum) return false
    if (this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks) return true
    // A restarted node forgot which leader it heard: with lease reads on, it
    // waits one election timeout before voting so an old lease can run out.
    return this.cfg.readOnly === 'lease-based' && this.ticks < this.cfg.electionTicks
  }

  private handleVoteRequest(m: Message): void {
    const respType: MessageType = m.type === 'vote' ? 'voteResp' : 'preVoteResp'
    const canVote =
      this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'preVote' && m.term > this.term)
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The answer carries the candidate's term: a granted pre-vote must count in the term it asks about.
      this.msgs.push(newMessage(respType, this.id, m.from, m.term))
      if (m.type === 'vote') {
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      const resp = newMessage(respType, this.id, m.from, this.term)
      resp.reject = true
      this.msgs.push(resp)
    }
  }

  /** A message from the leader of this term: the election timer starts over. */
  private heardLeader(from: NodeId): void {
    this.electionElapsed = 0
    this.lead = from
    // The leader was not lost after all (see forgetLeader with lease-based reads).
    if (this.leaderLostTimeout) this.resetRandomizedElectionTimeout()
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.heardLeader(m.from)
        this.handleAppendEntries(m)
        return
      case 'heartbeat':
        this.heardLeader(m.from)
        this.handleHeartbeat(m)
        return
      case 'snap':
        this.heardLeader(m.from)
        this.handleSnapshotChunk(m)
        return
      case 'timeoutNow':
        this.hup(true)
        return
      case 'readIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context ?? EMPTY_BYTES })
        return
      default:
        return
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp: MessageType = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp'
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from)
        this.handleAppendEntries(m)
        return
      case 'heartbeat':
        this.becomeFollower(m.term, m.from)
        this.handleHeartbeat(m)
        return
      case 'snap':
        this.becomeFollower(m.term, m.from)
        this.handleSnapshotChunk(m)
        return
      default:
        if (m.type !== myVoteResp) return
        switch (this.poll(m.from, !m.reject)) {
          case 'won':
            if (this.role === 'preCandidate') this.campaign('election')
            else this.becomeLeader()
            return
          case 'lost':
            this.becomeFollower(this.term, NONE)
            return
          case 'pending':
            return
        }
    }
  }

  private stepLeader(m: Message): void {
    if (m.type === 'readIndex') {
      this.handleReadRequest({ index: 0, ctx: m.context ?? EMPTY_BYTES, from: m.from, round: 0 })
      return
    }
    const pr = this.progress.get(m.from)
    if (pr === undefined) return
    switch (m.type) {
      case 'appResp':
        this.handleAppendResponse(m, pr)
        return
      case 'heartbeatResp':
        this.handleHeartbeatResponse(m, pr)
        return
      case 'snapResp':
        this.handleSnapshotChunkResponse(m, pr)
        return
      default:
        return
    }
  }

  // ---------------------------------------------------------------- follower side

  private handleAppendEntries(m: Message): void {
    const resp = newMessage('appResp', this.id, m.from, this.term)
    if (m.index < this.log.committed) {
      resp.index = this.log.committed
      this.msgs.push(resp)
      return
    }
    const lastNewIndex = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
    if (lastNewIndex >= 0) {
      resp.index = lastNewIndex
    } else {
      // Tell the leader the largest index whose term is <= the term it probed
      // with: it skips all of a conflicting term in one round trip.
      const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm)
      resp.index = m.index
      resp.reject = true
      resp.rejectHint = hint.index
      resp.logTerm = hint.term
    }
    this.msgs.push(resp)
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, commit); if we lost entries past that, do not commit blindly.
    if (m.commit <= this.log.lastIndex()) this.log.commitTo(m.commit)
    const resp = newMessage('heartbeatResp', this.id, m.from, this.term)
    resp.index = m.index
    this.msgs.push(resp)
  }

  private handleSnapshotChunk(m: Message): void {
    const chunk = m.snapshot
    if (chunk === undefined) return
    if (chunk.offsetBytes === 0 && chunk.metadata.index <= this.log.committed) {
      // Nothing to install: tell the leader where we are.
      this.snapshotReceiver.reset()
      const resp = newMessage('appResp', this.id, m.from, this.term)
      resp.index = this.log.committed
      this.msgs.push(resp)
      return
    }
    const outcome = this.snapshotReceiver.receive(m.from, m.term, chunk)
    switch (outcome.kind) {
      case 'invalid':
        this.cfg.logger?.warn('raft: dropping an oversized or malformed snapshot chunk', { id: this.id, totalBytes: chunk.totalBytes })
        return
      case 'restart':
      case 'progress': {
        const resp = newMessage('snapResp', this.id, m.from, this.term)
        resp.index = chunk.metadata.index
        resp.reject = outcome.kind === 'restart'
        resp.rejectHint = outcome.kind === 'progress' ? outcome.receivedBytes : 0
        this.msgs.push(resp)
        return
      }
      case 'complete': {
        const resp = newMessage('appResp', this.id, m.from, this.term)
        resp.index = this.restore(outcome.snapshot) ? this.log.lastIndex() : this.log.committed
        this.msgs.push(resp)
        return
      }
    }
  }

  /** Installs a complete snapshot; false when our log already holds it. */
  restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata
    if (index <= this.log.committed) return false
    if (this.role !== 'follower') {
      throw new RaftError('INVARIANT', `restore: only a follower installs a snapshot (role ${this.role})`)
    }
    if (this.log.matchTerm(index, term)) {
      // Our log already has the entry: fast-forward the commit instead of dropping the log.
      this.log.commitTo(index)
      return false
    }
    this.log.restore(snapshot)
    this.applyConfState(confState)
    return true
  }

  // ---------------------------------------------------------------- leader side

  /**
   * Sends the entries `to` lacks, from pr.next, if flow control allows.
   * With sendIfEmpty false, sends nothing when there are no new entries.
   */
  private sendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const lastIndex = this.log.lastIndex()
    if (prevIndex < this.log.firstIndex() - 1) return this.sendSnapshot(to, pr)
    if (prevIndex > lastIndex) {
      pr.next = lastIndex + 1
      return false
    }
    const entries = pr.next <= lastIndex ? this.log.slice(pr.next, lastIndex + 1, this.cfg.maxSizePerMsgBytes) : NO_ENTRIES
    if (entries.length === 0 && !sendIfEmpty) return false
    const m = newMessage('app', this.id, to, this.term)
    m.index = prevIndex
    m.logTerm = this.log.term(prevIndex)
    m.entries = entries
    m.commit = this.log.committed
    this.msgs.push(m)
    pr.sentEntries(entries.length, prevIndex + entries.length)
    return true
  }

  private bcastAppend(sendIfEmpty: boolean): void {
    for (const [id, pr] of this.progress) if (id !== this.id) this.sendAppend(id, pr, sendIfEmpty)
  }

  private bcastHeartbeat(): void {
    this.heartbeatRound++
    this.readBroadcastPending = false
    if (this.cfg.readOnly === 'lease-based') this.lease.recordRound(this.heartbeatRound, this.ticks)
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue
      const m = newMessage('heartbeat', this.id, id, this.term)
      m.commit = Math.min(pr.match, this.log.committed)
      m.index = this.heartbeatRound
      this.msgs.push(m)
    }
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false
    let snapshot: Snapshot
    try {
      snapshot = this.log.snapshot()
    } catch (err) {
      if (err instanceof RaftError && err.code === 'SNAPSHOT_UNAVAILABLE') return false
      throw err
    }
    if (snapshot.metadata.index === 0) throw new RaftError('INVARIANT', `follower ${to} needs compacted entries but there is no snapshot`)
    pr.becomeSnapshot({ snapshot, ackedBytes: 0, lastActivityTick: this.ticks, sentTick: this.ticks })
    this.sendSnapshotChunk(to, pr)
    return true
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const transfer = pr.transfer
    if (transfer === undefined) return
    const { data, metadata } = transfer.snapshot
    const end = Math.min(transfer.ackedBytes + this.cfg.snapshotChunkBytes, data.byteLength)
    const m = newMessage('snap', this.id, to, this.term)
    m.snapshot = { metadata, offsetBytes: transfer.ackedBytes, totalBytes: data.byteLength, data: data.subarray(transfer.ackedBytes, end) }
    this.msgs.push(m)
    transfer.sentTick = this.ticks
  }

  /** Resends a lost chunk after two heartbeat intervals; gives a silent transfer up after two election timeouts. */
  private tickSnapshotTransfers(): void {
    for (const [id, pr] of this.progress) {
      const transfer = pr.transfer
      if (id === this.id || pr.state !== 'snapshot' || transfer === undefined) continue
      if (this.ticks - transfer.lastActivityTick >= 2 * this.cfg.electionTicks) {
        this.cfg.logger?.debug('raft: snapshot transfer stalled, probing again', { id: this.id, to: id })
        pr.becomeProbe()
      } else if (this.ticks - transfer.sentTick >= 2 * this.cfg.heartbeatTicks) {
        this.sendSnapshotChunk(id, pr)
      }
    }
  }

  private handleSnapshotChunkResponse(m: Message, pr: Progress): void {
    pr.recentActive = true
    const transfer = pr.transfer
    if (pr.state !== 'snapshot' || transfer === undefined || transfer.snapshot.metadata.index !== m.index) return
    const totalBytes = transfer.snapshot.data.byteLength
    if (m.reject) {
      transfer.ackedBytes = 0
    } else if (m.rejectHint > transfer.ackedBytes && m.rejectHint <= totalBytes) {
      transfer.ackedBytes = m.rejectHint
    } else {
      return // stale or duplicate acknowledgement; the resend timer covers losses
    }
    transfer.lastActivityTick = this.ticks
    if (transfer.ackedBytes < totalBytes) this.sendSnapshotChunk(m.from, pr)
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true
    if (m.reject) {
      let nextProbeIndex = m.rejectHint
      if (m.logTerm > 0) nextProbeIndex = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index
      if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
        if (pr.state === 'replicate') pr.becomeProbe()
        this.sendAppend(m.from, pr, true)
      }
      return
    }
    const wasPaused = pr.isPaused()
    // A probe answered at the index we already knew also proves where the logs match.
    if (!pr.maybeUpdate(m.index) && !(pr.state === 'probe' && pr.match === m.index)) return
    if (pr.state === 'probe') {
      pr.becomeReplicate()
    } else if (pr.state === 'snapshot') {
      const snapshotIndex = pr.transfer?.snapshot.metadata.index ?? 0
      if (pr.match >= snapshotIndex) {
        pr.becomeProbe()
        pr.becomeReplicate()
      }
    } else {
      pr.inflights.freeLE(m.index)
    }
    if (this.maybeCommit() && this.cfg.broadcastCommit) {
      this.commitPending = true
    } else if (wasPaused) {
      this.sendAppend(m.from, pr, true)
    }
    // Pipelining: keep the window full while there are entries to send.
    for (let i = 0; i < this.cfg.maxInflightMsgs && this.sendAppend(m.from, pr, false); i++);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from)
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true
    pr.probeSent = false
    // If every append in the window was lost, nothing would ever be acknowledged:
    // free one slot so an append goes out, whose rejection resets the window.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne()
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, pr, true)
    if (m.index > pr.ackedHeartbeatRound) {
      pr.ackedHeartbeatRound = m.index
      if (!pr.isLearner) this.advanceConfirmedRound()
    }
  }

  /** The heartbeat round a quorum answered confirms pending reads and renews the lease. */
  private advanceConfirmedRound(): void {
    const lease = this.cfg.readOnly === 'lease-based'
    if (!this.reads.hasPending() && !lease) return
    const rounds = this.voteScratch
    rounds.length = 0
    for (const id of this.voters) {
      rounds.push(id === this.id ? this.heartbeatRound : (this.progress.get(id)?.ackedHeartbeatRound ?? 0))
    }
    const confirmed = majorityValue(rounds)
    if (lease) this.lease.confirm(confirmed)
    for (const req of this.reads.releaseUpTo(confirmed)) this.answerRead(req)
  }

  private maybeCommit(): boolean {
    const matches = this.voteScratch
    matches.length = 0
    for (const id of this.voters) matches.push(this.progress.get(id)?.match ?? 0)
    if (!this.log.maybeCommit(majorityValue(matches), this.term)) return false
    for (const req of this.reads.takeHeld()) this.handleReadRequest(req)
    return true
  }

  private sendTimeoutNow(to: NodeId): void {
    // The target's election ignores the followers' lease: ours ends here.
    this.lease.revoke()
    this.msgs.push(newMessage('timeoutNow', this.id, to, this.term))
  }

  /** Materializes the sends deferred so that many proposals or reads share one message per follower. */
  flush(): void {
    if (this.role !== 'leader') return
    if (this.appendsPending || this.commitPending) {
      const sendIfEmpty = this.commitPending
      this.appendsPending = false
      this.commitPending = false
      this.bcastAppend(sendIfEmpty)
    }
    if (this.readBroadcastPending) this.bcastHeartbeat()
  }

  // ---------------------------------------------------------------- proposals

  /** Appends entries stamped with our term and index; the caller checked we lead. */
  private appendEntries(entries: Entry[]): void {
    this.log.append(entries)
    const lastIndex = entries[entries.length - 1]!.index
    this.progress.get(this.id)?.maybeUpdate(lastIndex)
    this.maybeCommit()
    this.appendsPending = true
  }

  propose(datas: readonly Uint8Array[], type: EntryType = 'normal'): ProposeResult {
    if (this.role !== 'leader') return reject('NOT_LEADER', `node ${this.id} is not the leader`, this.lead)
    if (!this.progress.has(this.id)) return reject('PROPOSAL_DROPPED', `node ${this.id} is no longer a member`)
    if (this.leadTransferee !== NONE) {
      return reject('TRANSFER_IN_PROGRESS', `leadership is being transferred to ${this.leadTransferee}`, this.leadTransferee)
    }
    if (datas.length === 0) return reject('INVALID_ARGUMENT', 'a proposal needs at least one entry')
    let sizeBytes = 0
    for (let i = 0; i < datas.length; i++) sizeBytes += datas[i]!.byteLength
    // Always admit a proposal when nothing is uncommitted, however large, so progress is possible.
    if (this.uncommittedSizeBytes > 0 && sizeBytes > 0 && this.uncommittedSizeBytes + sizeBytes > this.cfg.maxUncommittedEntriesBytes) {
      return reject('OVERLOADED', `uncommitted proposals exceed ${this.cfg.maxUncommittedEntriesBytes} bytes`)
    }
    const firstIndex = this.log.lastIndex() + 1
    const entries: Entry[] = []
    for (let i = 0; i < datas.length; i++) entries.push({ term: this.term, index: firstIndex + i, type, data: datas[i]! })
    this.uncommittedSizeBytes += sizeBytes
    this.appendEntries(entries)
    return { ok: true, term: this.term, firstIndex, lastIndex: firstIndex + datas.length - 1 }
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.role !== 'leader') return reject('NOT_LEADER', `node ${this.id} is not the leader`, this.lead)
    if (this.pendingConfIndex > this.log.applied) {
      return reject('CONF_CHANGE_PENDING', `conf change at ${this.pendingConfIndex} (or this term's first entry) is not applied yet`)
    }
    const invalid = this.checkConfChange(cc)
    if (invalid !== undefined) return reject('INVALID_ARGUMENT', invalid)
    let data: Uint8Array
    try {
      data = encodeConfChange(cc)
    } catch (err) {
      return reject('INVALID_ARGUMENT', err instanceof Error ? err.message : String(err))
    }
    const result = this.propose([data], 'conf')
    if (result.ok) this.pendingConfIndex = result.lastIndex
    return result
  }

  private checkConfChange(cc: ConfChange): string | undefined {
    const isVoter = this.voters.includes(cc.nodeId)
    const isLearner = this.learners.includes(cc.nodeId)
    switch (cc.type) {
      case 'addVoter':
        return isVoter ? `node ${cc.nodeId} is already a voter` : undefined
      case 'addLearner':
        if (isVoter) return `node ${cc.nodeId} is a voter (demotion is not supported; remove it first)`
        return isLearner ? `node ${cc.nodeId} is already a learner` : undefined
      case 'removeVoter':
        if (!isVoter && !isLearner) return `node ${cc.nodeId} is not a member`
        return isVoter && this.voters.length === 1 ? 'cannot remove the last voter' : undefined
    }
  }

  // ---------------------------------------------------------------- membership

  /** Replaces the membership; keeps the progress of members that stay. */
  applyConfState(cs: ConfState): void {
    const voters = sortedUnique(cs.voters)
    const learners = sortedUnique(cs.learners).filter((id) => !voters.includes(id))
    const nextIndex = this.log.lastIndex() + 1
    for (const id of this.progress.keys()) {
      if (!voters.includes(id) && !learners.includes(id)) this.progress.delete(id)
    }
    for (const id of [...voters, ...learners]) {
      const isLearner = !voters.includes(id)
      const existing = this.progress.get(id)
      if (existing !== undefined) {
        existing.isLearner = isLearner
        continue
      }
      const pr = new Progress(nextIndex, this.cfg.maxInflightMsgs, isLearner)
      // A new member may need a snapshot at once; do not wait for it to answer first.
      pr.recentActive = true
      if (id === this.id) pr.match = nextIndex - 1
      this.progress.set(id, pr)
    }
    this.voters = voters
    this.learners = learners
  }

  /** Applies a committed conf change (the application calls this when it applies the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    const voters = this.voters.filter((id) => id !== cc.nodeId)
    const learners = this.learners.filter((id) => id !== cc.nodeId)
    const wasVoter = this.voters.includes(cc.nodeId)
    switch (cc.type) {
      case 'addVoter':
        voters.push(cc.nodeId)
        break
      case 'addLearner':
        // Demotion is not supported: a voter stays a voter (every node decides alike).
        if (wasVoter) voters.push(cc.nodeId)
        else learners.push(cc.nodeId)
        break
      case 'removeVoter':
        break
    }
    if (voters.length === 0) {
      // Refused at proposal; a log that still holds such an entry is ignored alike everywhere.
      return this.confState()
    }
    const isNew = !this.progress.has(cc.nodeId)
    this.applyConfState({ voters, learners })
    if (this.role === 'leader') {
      if (!this.voters.includes(this.id)) {
        this.stepDownAfterRemoval()
      } else {
        if (this.leadTransferee !== NONE && !this.voters.includes(this.leadTransferee)) this.leadTransferee = NONE
        // The quorum changed: the commit index may move.
        if (this.maybeCommit() && this.cfg.broadcastCommit) this.commitPending = true
        // Probe a new member at once rather than at the next heartbeat.
        const pr = this.progress.get(cc.nodeId)
        if (isNew && pr !== undefined) this.sendAppend(cc.nodeId, pr, true)
      }
    }
    return this.confState()
  }

  /** A leader removed from the voters hands over to an up-to-date voter (if any) and steps down. */
  private stepDownAfterRemoval(): void {
    const lastIndex = this.log.lastIndex()
    let successor: NodeId = NONE
    for (const id of this.voters) {
      const pr = this.progress.get(id)
      if (pr !== undefined && pr.match === lastIndex) {
        successor = id
        break
      }
    }
    this.flush()
    if (successor !== NONE) this.sendTimeoutNow(successor)
    this.becomeFollower(this.term, NONE)
  }

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] }
  }

  // ---------------------------------------------------------------- reads

  readIndex(ctx: Uint8Array): RaftResult {
    if (this.role === 'leader') {
      return this.handleReadRequest({ index: 0, ctx, from: this.id, round: 0 })
    }
    if (this.role !== 'follower' || this.lead === NONE) return reject('NOT_LEADER', `node ${this.id} knows no leader`, this.lead)
    const m = newMessage('readIndex', this.id, this.lead, this.term)
    m.context = ctx
    this.msgs.push(m)
    return ACCEPTED
  }

  private handleReadRequest(req: ReadRequest): RaftResult {
    if (!this.committedInCurrentTerm()) {
      // Until an entry of this term commits, our commit index may lag the
      // true one (§6.4): reads wait for it.
      return this.reads.hold(req) ? ACCEPTED : reject('OVERLOADED', 'too many pending reads')
    }
    req.index = this.log.committed
    if (this.isSingleVoter() || (this.cfg.readOnly === 'lease-based' && this.leaseValid())) {
      this.answerRead(req)
      return ACCEPTED
    }
    req.round = this.heartbeatRound + 1
    if (!this.reads.add(req)) return reject('OVERLOADED', 'too many pending reads')
    this.readBroadcastPending = true
    return ACCEPTED
  }

  private answerRead(req: ReadRequest): void {
    if (req.from === this.id || req.from === NONE) {
      this.readStates.push({ index: req.index, requestCtx: req.ctx })
      return
    }
    const m = newMessage('readIndexResp', this.id, req.from, this.term)
    m.index = req.index
    m.context = req.ctx
    this.msgs.push(m)
  }

  /** See README: valid for leaseTicks leader ticks after the send of a quorum-answered heartbeat round. */
  leaseValid(): boolean {
    return this.role === 'leader' && this.leadTransferee === NONE && this.lease.valid(this.ticks)
  }

  // ---------------------------------------------------------------- transfer, reports

  transferLeadership(to: NodeId): RaftResult {
    if (this.role !== 'leader') return reject('NOT_LEADER', `node ${this.id} is not the leader`, this.lead)
    if (to === this.id) return ACCEPTED
    const pr = this.progress.get(to)
    if (pr === undefined || pr.isLearner) return reject('INVALID_ARGUMENT', `node ${to} is not a voter`)
    if (this.leadTransferee === to) return ACCEPTED
    // The transfer must finish within an election timeout, else it is aborted (tickHeartbeat).
    this.electionElapsed = 0
    this.leadTransferee = to
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to)
    else this.sendAppend(to, pr, true)
    return ACCEPTED
  }

  /** The transport could not reach `id`: stop optimistic pipelining to it. */
  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id)
    if (this.role === 'leader' && pr !== undefined && pr.state === 'replicate') pr.becomeProbe()
  }

  /** Called on advance(): entries up to `index` were applied. */
  appliedTo(index: number, appliedPayloadBytes: number): void {
    this.log.appliedTo(index)
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - appliedPayloadBytes)
  }
}
