// The bytes of writes (message bodies, KV values, request bodies being read)
// a node has taken in and not yet answered. Past the budget a new write is
// refused at once with UNAVAILABLE (HTTP 503 with Retry-After, a retry hint
// over TCP) instead of joining a queue that would outlast its deadline:
// under a flood of large batches the node keeps committing at the rate its
// disk and threads allow, its memory stays bounded, and the writes it
// refuses are known not to have happened (no TIMEOUT, outcome unknown).
import { TroupeError } from './node-errors.js'

const MIB = 1024 * 1024

export class WriteBudget {
  #inFlightBytes = 0
  /** Writes refused for want of room, since the node started. */
  refusedTotal = 0

  constructor(readonly maxBytes: number) {}

  get inFlightBytes(): number {
    return this.#inFlightBytes
  }

  /**
   * Takes `bytes` if they fit; a write larger than the whole budget is let
   * in when nothing else is in flight, so that it is never refused forever.
   */
  tryTake(bytes: number): boolean {
    if (this.#inFlightBytes > 0 && this.#inFlightBytes + bytes > this.maxBytes) {
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
    try {
      return await write()
    } finally {
      this.give(bytes)
    }
  }

  overloaded(): TroupeError {
    const inFlight = (this.#inFlightBytes / MIB).toFixed(1)
    return new TroupeError('UNAVAILABLE', `the node is busy: ${inFlight} MiB of writes in flight, its limit is ${(this.maxBytes / MIB).toFixed(1)} MiB; retry later`)
  }
}
