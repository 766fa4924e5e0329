// The simulated network between endpoints (Raft nodes and clients): each
// message is lost, delayed, or duplicated on its own draw of the seeded
// generator; random delays reorder messages. A client's request is never
// duplicated: clients talk over a connection (TCP), which delivers a request
// at most once, so a request that was refused cannot be run later by a copy.
// (Replies to clients and Raft messages may be duplicated.) Partitions block directed
// links, so a partition is symmetric when both directions are blocked and
// asymmetric when only one is. A blocked link drops what is in flight too.
import type { Rng } from '../raft/rng.js'

export interface NetworkFaults {
  /** Probability that one message is dropped. */
  lossRate: number
  /** Probability that one message is delivered twice. */
  duplicateRate: number
  minLatencyMs: number
  maxLatencyMs: number
  /** Probability that one message takes the slow path (up to `slowLatencyMaxMs`): reorders. */
  slowRate: number
  slowLatencyMaxMs: number
}

export const defaultNetworkFaults: NetworkFaults = {
  lossRate: 0.02,
  duplicateRate: 0.01,
  minLatencyMs: 1,
  maxLatencyMs: 8,
  slowRate: 0.02,
  slowLatencyMaxMs: 120,
}

export interface NetworkStats {
  sent: number
  dropped: number
  duplicated: number
  blocked: number
}

export type EndpointId = number

export class SimNetwork {
  readonly #rng: Rng
  readonly #faults: NetworkFaults
  readonly #blocked = new Set<string>()
  readonly stats: NetworkStats = { sent: 0, dropped: 0, duplicated: 0, blocked: 0 }

  constructor(rng: Rng, faults: NetworkFaults) {
    if (faults.minLatencyMs > faults.maxLatencyMs || faults.maxLatencyMs > faults.slowLatencyMaxMs) {
      throw new RangeError('network latencies must satisfy min <= max <= slowMax')
    }
    this.#rng = rng
    this.#faults = faults
  }

  /**
   * The delays after which copies of a message from `from` to `to` arrive:
   * zero, one or two of them (`once`: at most one, for client requests).
   */
  transmit(from: EndpointId, to: EndpointId, once = false): number[] {
    this.stats.sent++
    if (!this.canDeliver(from, to)) {
      this.stats.blocked++
      return []
    }
    // Draw everything for every message so the stream of draws does not depend on the outcome.
    const lost = this.#rng.nextFloat() < this.#faults.lossRate
    const duplicated = this.#rng.nextFloat() < this.#faults.duplicateRate
    const first = this.#latencyMs()
    const second = this.#latencyMs()
    if (lost) {
      this.stats.dropped++
      return []
    }
    if (duplicated && !once) {
      this.stats.duplicated++
      return [first, second]
    }
    return [first]
  }

  canDeliver(from: EndpointId, to: EndpointId): boolean {
    return !this.#blocked.has(linkKey(from, to))
  }

  /** Blocks every link between the two groups in both directions. */
  partition(groupA: readonly EndpointId[], groupB: readonly EndpointId[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.#blocked.add(linkKey(a, b))
        this.#blocked.add(linkKey(b, a))
      }
    }
  }

  /** Blocks messages from `from` to `to` only. */
  blockOneWay(from: EndpointId, to: EndpointId): void {
    this.#blocked.add(linkKey(from, to))
  }

  heal(): void {
    this.#blocked.clear()
  }

  /** The blocked links as `from>to`, sorted; for traces. */
  blockedLinks(): string[] {
    return [...this.#blocked].sort()
  }

  #latencyMs(): number {
    const f = this.#faults
    const slow = this.#rng.nextFloat() < f.slowRate
    const span = slow ? f.slowLatencyMaxMs - f.minLatencyMs : f.maxLatencyMs - f.minLatencyMs
    return f.minLatencyMs + this.#rng.nextInt(span + 1)
  }
}

function linkKey(from: EndpointId, to: EndpointId): string {
  return `${from}>${to}`
}
