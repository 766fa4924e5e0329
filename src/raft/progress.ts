// The leader's view of one follower (etcd's tracker.Progress).
import type { Snapshot } from './types.js'
import { Inflights } from './inflights.js'

/**
 * - probe: the leader does not know where the follower's log matches; it sends
 *   one append per heartbeat round and waits for the answer.
 * - replicate: the logs match up to `match`; appends are pipelined, bounded by inflights.
 * - snapshot: the follower needs entries the leader has compacted; a snapshot is being sent.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** An InstallSnapshot transfer in progress, one chunk in flight at a time. */
export interface SnapshotTransfer {
  snapshot: Snapshot
  /** Bytes the follower acknowledged. */
  ackedBytes: number
  /** Leader tick of the last chunk sent or acknowledged, to resend a lost chunk and abort a dead transfer. */
  lastActivityTick: number
  /** Leader tick at which the current chunk was sent. */
  sentTick: number
}

export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** In probe state: an append was sent and its answer is awaited. */
  probeSent = false
  /** Heard from since the last check-quorum round. */
  recentActive = false
  isLearner: boolean
  /** Highest heartbeat round the follower answered (ReadIndex, lease). */
  ackedHeartbeatRound = 0
  /** Set in snapshot state. */
  transfer: SnapshotTransfer | undefined = undefined
  readonly inflights: Inflights

  constructor(next: number, maxInflightMsgs: number, isLearner: boolean) {
    this.next = next
    this.isLearner = isLearner
    this.inflights = new Inflights(maxInflightMsgs)
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.transfer !== undefined) {
      // The follower may have installed the snapshot even if we missed the answer.
      this.next = Math.max(this.match + 1, this.transfer.snapshot.metadata.index + 1)
    } else {
      this.next = this.match + 1
    }
    this.state = 'probe'
    this.probeSent = false
    this.transfer = undefined
    this.inflights.reset()
  }

  becomeReplicate(): void {
    this.state = 'replicate'
    this.next = this.match + 1
    this.probeSent = false
    this.transfer = undefined
    this.inflights.reset()
  }

  becomeSnapshot(transfer: SnapshotTransfer): void {
    this.state = 'snapshot'
    this.probeSent = false
    this.transfer = transfer
    this.inflights.reset()
  }

  /** An acknowledgement up to n; false when it is stale. */
  maybeUpdate(n: number): boolean {
    let updated = false
    if (this.match < n) {
      this.match = n
      updated = true
      this.probeSent = false
    }
    if (this.next < n + 1) this.next = n + 1
    return updated
  }

  /**
   * A rejected append at `rejected`; `matchHint` is where the follower suggests
   * the logs may match. False when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1)
    this.probeSent = false
    return true
  }

  /** Records an append of entries up to lastIndex (count > 0) just sent. */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex)
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }
}
