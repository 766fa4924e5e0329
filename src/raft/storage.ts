// The log as the core reads it back from stable storage. Synchronous on
// purpose (as in etcd): the node keeps each shard's log from its last snapshot
// on in memory (MemoryStorage), reloaded from the WAL at start.
import type { ConfState, Entry, HardState, Snapshot } from './types.js'

export interface InitialState {
  hardState: HardState
  confState: ConfState
}

export interface RaftStorage {
  /** The persisted HardState and the membership as of the last snapshot or applied conf change. */
  initialState(): InitialState
  /**
   * Entries in [lo, hi), as many as fit in maxSizeBytes but always at least one,
   * in a fresh array the caller may extend (the entries themselves are shared).
   * Throws RaftError COMPACTED when lo < firstIndex(), UNAVAILABLE when hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[]
  /** Term of entry i, for firstIndex()-1 <= i <= lastIndex(); throws COMPACTED / UNAVAILABLE otherwise. */
  term(index: number): number
  /** Index of the first entry still available (the snapshot's index + 1). */
  firstIndex(): number
  lastIndex(): number
  /** The most recent snapshot; throws SNAPSHOT_UNAVAILABLE when it is being built. */
  snapshot(): Snapshot
}
