// The leader lease for lease-based reads (see README "Reads" for the bound).
// The lease starts at the leader tick at which a heartbeat round was SENT,
// once a quorum answered that round: a follower's vote refusal starts no
// earlier than that.

/** Heartbeat rounds remembered; older unconfirmed rounds are forgotten (the lease only gets shorter). */
const MAX_TRACKED_ROUNDS = 1024

export class LeaderLease {
  private readonly sentTickByRound = new Map<number, number>()
  private startTick = Number.NEGATIVE_INFINITY
  private revoked = false

  constructor(private readonly leaseTicks: number) {}

  recordRound(round: number, sentTick: number): void {
    this.sentTickByRound.set(round, sentTick)
    if (this.sentTickByRound.size > MAX_TRACKED_ROUNDS) {
      const oldest = this.sentTickByRound.keys().next()
      if (oldest.done !== true) this.sentTickByRound.delete(oldest.value)
    }
  }

  /** A quorum answered rounds up to `round`. */
  confirm(round: number): void {
    for (const [r, sentTick] of this.sentTickByRound) {
      if (r > round) break
      if (r === round && sentTick > this.startTick) this.startTick = sentTick
      this.sentTickByRound.delete(r)
    }
  }

  /** No lease for the rest of this term (a forced election may be under way). */
  revoke(): void {
    this.revoked = true
  }

  valid(nowTick: number): boolean {
    return !this.revoked && nowTick - this.startTick < this.leaseTicks
  }

  reset(): void {
    this.sentTickByRound.clear()
    this.startTick = Number.NEGATIVE_INFINITY
    this.revoked = false
  }
}
