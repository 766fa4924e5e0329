// What one `apply` call carries through the operations it runs.
import type { ShardEffect } from './effects.js'

export interface ApplyContext {
  readonly shard: number
  /** Log index of the entry being applied. */
  readonly index: number
  /** The machine's time: the largest leader stamp seen so far. */
  readonly nowMs: number
  readonly effects: ShardEffect[]
  /** Queues that gained visible messages during this apply (one wake-up each). */
  readonly available: Set<string>
}
