// The caller's API to one Raft node (etcd's RawNode): drive it with tick()
// and step(), ask with propose()/readIndex()/transferLeadership(), and drain
// its output with hasReady()/ready()/advance() following the Ready contract
// documented on the Ready type.
import type { ConfChange } from './conf-change.js'
import type { RaftConfig } from './config.js'
import { payloadSizeBytes } from './entries.js'
import { RaftError, type ProposeResult, type RaftResult } from './errors.js'
import type { ProgressState } from './progress.js'
import { Raft } from './raft.js'
import type { ConfState, HardState, Message, NodeId, RaftRole, Ready, SoftState } from './types.js'

export interface ProgressStatus {
  match: number
  next: number
  state: ProgressState
  isLearner: boolean
  recentActive: boolean
  inflightMsgs: number
}

export interface Status {
  id: NodeId
  term: number
  vote: NodeId
  commit: number
  applied: number
  lead: NodeId
  role: RaftRole
  firstIndex: number
  lastIndex: number
  leadTransferee: NodeId
  confState: ConfState
  /** The leader's view of every member; empty on other roles. */
  progress: Map<NodeId, ProgressStatus>
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/**
 * When a follower whose leader went away should campaign (the argument of
 * forgetLeader): the surviving voters take turns in `preference` order, the
 * first at the next tick and each next one two ticks later, so that they do
 * not split the vote.
 */
export function lostLeaderCampaignTicks(preference: readonly NodeId[], self: NodeId, lost: NodeId): number {
  return 1 + 2 * Math.max(0, preference.filter((id) => id !== lost).indexOf(self))
}

export class RawNode {
  /** The state machine itself; for tests and diagnostics. Prefer the methods below. */
  readonly raft: Raft
  private prevSoftState: SoftState
  private prevHardState: HardState
  private pendingReady: Ready | undefined = undefined

  constructor(config: RaftConfig) {
    this.raft = new Raft(config)
    this.prevSoftState = this.softState()
    this.prevHardState = this.hardState()
  }

  /** Advances logical time by one tick (the only notion of time of the core). */
  tick(): void {
    this.raft.tick()
  }

  /** Starts an election now (pre-vote first when enabled). */
  campaign(): void {
    this.raft.hup(false)
  }

  /** A follower's leader went away (its connection closed): forget it, and campaign in `campaignInTicks` (see Raft.forgetLeader). */
  forgetLeader(campaignInTicks?: number): boolean {
    return this.raft.forgetLeader(campaignInTicks)
  }

  /** The voter a transfer under way hands leadership to, 0 when there is none. */
  get leadTransferee(): NodeId {
    return this.raft.leadTransferee
  }

  /** Proposes one entry. On a non-leader: NOT_LEADER with the known leader; never forwarded. */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose([data])
  }

  /** Proposes many entries at once: one append message per follower carries them all (within maxSizePerMsgBytes). */
  proposeBatch(datas: readonly Uint8Array[]): ProposeResult {
    return this.raft.propose(datas)
  }

  /** Proposes a membership change; one at a time, and only once this leader's first entry is applied. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(cc)
  }

  /** Call when a committed `conf` entry is applied; returns the new membership to persist. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc)
  }

  /** Feeds a message received from a peer. */
  step(m: Message): void {
    this.raft.step(m)
  }

  /**
   * Requests a linearizable read. The answer is a ReadState carrying `ctx` in a
   * later Ready. A follower forwards the request to the leader it knows (the
   * leader answers it); with no known leader it answers NOT_LEADER. Requests
   * lost with a leader change are never answered: the caller times them out.
   */
  readIndex(ctx: Uint8Array): RaftResult {
    return this.raft.readIndex(ctx)
  }

  /** Hands leadership to voter `to` once its log is caught up; aborted after an election timeout. */
  transferLeadership(to: NodeId): RaftResult {
    return this.raft.transferLeadership(to)
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id)
  }

  hasReady(): boolean {
    const r = this.raft
    r.flush()
    if (r.msgs.length > 0 || r.readStates.length > 0) return true
    if (r.log.unstable.entries.length > 0 || r.log.unstable.snapshot !== undefined) return true
    if (r.log.hasNextCommittedEntries()) return true
    const soft = this.prevSoftState
    if (soft.lead !== r.lead || soft.role !== r.role) return true
    const hard = this.prevHardState
    return hard.term !== r.term || hard.vote !== r.vote || hard.commit !== r.log.committed
  }

  /** What to persist, send and apply now. See the Ready type for the order to follow. */
  ready(): Ready {
    if (this.pendingReady !== undefined) throw new RaftError('READY_NOT_ADVANCED', 'ready() called before advance() of the previous Ready')
    const r = this.raft
    r.flush()
    const rd: Ready = {
      entries: r.log.unstableEntries(),
      committedEntries: r.log.nextCommittedEntries(r.cfg.maxCommittedSizePerReadyBytes),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
      sendFirst: false,
    }
    r.msgs = []
    r.readStates = []
    const soft = this.softState()
    if (soft.lead !== this.prevSoftState.lead || soft.role !== this.prevSoftState.role) {
      rd.softState = soft
      this.prevSoftState = soft
    }
    const hard = this.hardState()
    if (!sameHardState(hard, this.prevHardState)) rd.hardState = hard
    const snapshot = r.log.unstable.snapshot
    if (snapshot !== undefined) rd.snapshot = snapshot
    const termOrVote = hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote
    rd.mustSync = rd.entries.length > 0 || snapshot !== undefined || termOrVote
    rd.sendFirst = soft.role === 'leader' && snapshot === undefined && !termOrVote
    this.pendingReady = rd
    return rd
  }

  /** The previous Ready is persisted, sent and applied. */
  advance(): void {
    const rd = this.pendingReady
    if (rd === undefined) throw new RaftError('NO_READY', 'advance() without a pending Ready')
    this.pendingReady = undefined
    const log = this.raft.log
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState
    if (rd.snapshot !== undefined) {
      log.stableSnapTo(rd.snapshot.metadata.index)
      if (rd.snapshot.metadata.index > log.applied) log.applied = rd.snapshot.metadata.index
    }
    const committed = rd.committedEntries
    if (committed.length > 0) {
      // Only a leader counts uncommitted proposal bytes; skip the sum elsewhere.
      const payloadBytes = this.raft.uncommittedSizeBytes > 0 ? payloadSizeBytes(committed) : 0
      this.raft.appliedTo(committed[committed.length - 1]!.index, payloadBytes)
    }
    const entries = rd.entries
    if (entries.length > 0) {
      const last = entries[entries.length - 1]!
      log.stableTo(last.index, last.term)
    }
  }

  status(): Status {
    const r = this.raft
    const progress = new Map<NodeId, ProgressStatus>()
    if (r.role === 'leader') {
      for (const [id, pr] of r.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          inflightMsgs: pr.inflights.size(),
        })
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lead: r.lead,
      role: r.role,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
      leadTransferee: r.leadTransferee,
      confState: r.confState(),
      progress,
    }
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role }
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed }
  }
}
