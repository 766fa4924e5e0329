// Two kinds of failure, kept apart on purpose:
// - RaftError is thrown for misuse and for storage answers the core must branch
//   on (a compacted index); callers branch on `code`.
// - Rejection is returned, not thrown, for the ordinary "cannot do that here"
//   answers to proposals, reads and transfers, which happen every election.
import type { NodeId } from './types.js'

export type RaftErrorCode =
  | 'INVALID_CONFIG'
  | 'COMPACTED' // the index precedes the first available entry
  | 'UNAVAILABLE' // the index is past the last entry
  | 'SNAPSHOT_OUT_OF_DATE' // a snapshot older than the one already held
  | 'SNAPSHOT_UNAVAILABLE'
  | 'READY_NOT_ADVANCED' // ready() called again before advance()
  | 'NO_READY' // advance() without a ready()
  | 'INVARIANT' // the core detected a state that must never happen

export class RaftError extends Error {
  readonly code: RaftErrorCode
  constructor(code: RaftErrorCode, message: string) {
    super(message)
    this.name = 'RaftError'
    this.code = code
  }
}

export type RejectionCode =
  | 'NOT_LEADER' // ask `leaderId` (when known) instead
  | 'TRANSFER_IN_PROGRESS' // the leader is handing over; retry at the new leader
  | 'OVERLOADED' // too many uncommitted bytes or pending reads; retry later
  | 'PROPOSAL_DROPPED' // e.g. the leader is being removed from the group
  | 'CONF_CHANGE_PENDING' // one membership change at a time
  | 'INVALID_ARGUMENT'

export interface Rejection {
  ok: false
  code: RejectionCode
  /** The leader this node knows of, when the code is NOT_LEADER. */
  leaderId?: NodeId
  message: string
}

export function reject(code: RejectionCode, message: string, leaderId?: NodeId): Rejection {
  return leaderId === undefined || leaderId === 0 ? { ok: false, code, message } : { ok: false, code, message, leaderId }
}

export interface Accepted {
  ok: true
}

export const ACCEPTED: Accepted = Object.freeze({ ok: true })

/** The answer to `readIndex` and `transferLeadership`. */
export type RaftResult = Accepted | Rejection

/** The answer to a proposal: the entries occupy firstIndex..lastIndex in `term`. */
export type ProposeResult = { ok: true; term: number; firstIndex: number; lastIndex: number } | Rejection
