// How many Raft ticks a shard replica owes, by the monotonic clock. A
// setInterval on a thread that stalled (a long turn, a GC pause) fires once
// when it wakes, not once per missed interval; counted that way, a stalled
// leader would believe its lease still valid while the followers, whose
// clocks kept running, elect another leader, and its lease reads would be
// stale. So the shard actor asks this clock before every message and ticks
// the replica for all the time that passed.

export class TickClock {
  private last: number

  /** `maxTicksAtOnce`: after a very long stall, ticks beyond this are skipped (it is enough to expire every timer and lease). */
  constructor(
    private readonly tickMs: number,
    private readonly maxTicksAtOnce: number,
    nowMs: number,
  ) {
    this.last = nowMs
  }

  /** Ticks due at `nowMs` since the last call that returned some; at most maxTicksAtOnce. */
  due(nowMs: number): number {
    const elapsed = Math.floor((nowMs - this.last) / this.tickMs)
    if (elapsed <= 0) return 0
    this.last += elapsed * this.tickMs
    return Math.min(elapsed, this.maxTicksAtOnce)
  }
}
