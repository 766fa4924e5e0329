// The bytes of writes (message bodies, KV values, request bodies being read)
// a node has taken in and not yet answered. Past the budget a new write is
// refused at once with UNAVAILABLE (HTTP 503 with Retry-After, a retry hint
// over TCP) instead of joining a queue that would outlast its deadline:
// under a flood of large batches the node keeps committing at the rate its
// disk and threads allow, its memory stays bounded, and the writes it
// refuses are known not to have happened (no TIMEOUT, outcome unknown).
//
// Bytes alone do not say how long the queue is: a cluster that commits
// slowly (three nodes on two cores, a slow disk) takes longer to get
// through the same bytes. So a large write (LARGE_WRITE_BYTES or more) is
// also refused while the oldest large write in flight has waited longer
// than `waitedMaxMs` (the node passes a quarter of its request timeout):
// the writes already taken then finish within their deadline. Only large
// writes are timed: a single send costs no clock reads and no map entry.
import { TroupeError } from './node-errors.js'

const MIB = 1024 * 1024

/** Writes from this size on are timed, and refused while the oldest of them in flight has waited too long. */
export const LARGE_WRITE_BYTES = 64 * 1024

export class WriteBudget {
  #inFlightBytes = 0
  /** When each large write run through `run` started, in the order they started. */
  readonly #started = new Map<number, number>()
  #nextWrite = 0
  /** Writes refused (for want of room or because the oldest large one waited too long), since the node started. */
  refusedTotal = 0

  constructor(
    readonly maxBytes: number,
    readonly waitedMaxMs = Number.POSITIVE_INFINITY,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get inFlightBytes(): number {
    return this.#inFlightBytes
  }

  /** How long the oldest large write still in flight has waited (0 when none). */
  get oldestWaitedMs(): number {
    const oldest = this.#started.values().next()
    return oldest.done === true ? 0 : this.nowMs() - oldest.value
  }

  /**
   * Takes `bytes` if they fit; a write larger than the whole budget is let
   * in when nothing else is in flight, so that it is never refused forever.
   */
  tryTake(bytes: number): boolean {
    const full = this.#inFlightBytes > 0 && this.#inFlightBytes + bytes > this.maxBytes
    if (full || (bytes >= LARGE_WRITE_BYTES && this.oldestWaitedMs > this.waitedMaxMs)) {
      this.refusedTotal++
      return false
    }
    this.#inFlightBytes += bytes
    return true
  }

  give(bytes: number): void {
    this.#inFlightBytes -= bytes
  }

  /** Takes `bytes` or throws UNAVAILABLE. */
  take(bytes: number): void {
    if (!this.tryTake(bytes)) throw this.overloaded()
  }

  /** Runs `write` holding `bytes` of the budget; refuses it with UNAVAILABLE when they do not fit. */
  async run<T>(bytes: number, write: () => Promise<T>): Promise<T> {
    this.take(bytes)
    const timed = bytes >= LARGE_WRITE_BYTES ? this.#nextWrite++ : -1
    if (timed >= 0) this.#started.set(timed, this.nowMs())
    try {
      return await write()
    } finally {
      if (timed >= 0) this.#started.delete(timed)
      this.give(bytes)
    }
  }

  overloaded(): TroupeError {
    const inFlight = (this.#inFlightBytes / MIB).toFixed(1)
    const waited = Math.round(this.oldestWaitedMs)
    return new TroupeError(
      'UNAVAILABLE',
      `the node is busy: ${inFlight} MiB of writes in flight (its limit is ${(this.maxBytes / MIB).toFixed(1)} MiB), the oldest waiting ${waited} ms; retry later`,
    )
  }
}
