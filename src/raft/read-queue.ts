// ReadIndex requests waiting on the leader (Raft thesis §6.4): first until an
// entry of the leader's term commits, then until a quorum answers a heartbeat
// round sent after they arrived. Both waits are bounded.
import type { NodeId } from './types.js'

export interface ReadRequest {
  /** The commit index when the request was admitted: the read index. */
  index: number
  ctx: Uint8Array
  /** The leader itself (answer through Ready.readStates) or the follower that forwarded it. */
  from: NodeId
  /** The first heartbeat round sent after the request arrived. */
  round: number
}

export class ReadQueue {
  private held: ReadRequest[] = []
  private pending: ReadRequest[] = []

  constructor(private readonly maxPendingReads: number) {}

  /** Holds a request until an entry of the current term commits; false when full. */
  hold(req: ReadRequest): boolean {
    if (this.held.length >= this.maxPendingReads) return false
    this.held.push(req)
    return true
  }

  /** Takes every held request (the commit condition is now met). */
  takeHeld(): ReadRequest[] {
    const held = this.held
    this.held = []
    return held
  }

  /** Queues a request confirmed by heartbeat round `req.round`; false when full. */
  add(req: ReadRequest): boolean {
    if (this.pending.length >= this.maxPendingReads) return false
    this.pending.push(req)
    return true
  }

  hasPending(): boolean {
    return this.pending.length > 0
  }

  /** Removes and returns the requests confirmed once a quorum answered `round` (they are in round order). */
  releaseUpTo(round: number): ReadRequest[] {
    let count = 0
    while (count < this.pending.length && this.pending[count]!.round <= round) count++
    if (count === 0) return []
    const released = this.pending.slice(0, count)
    this.pending = this.pending.slice(count)
    return released
  }

  /** Leadership changed: requests are dropped unanswered (callers time out). */
  clear(): void {
    this.held = []
    this.pending = []
  }
}
