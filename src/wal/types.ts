/** One Raft log entry as the WAL stores it. `kind` is the application's entry type (0..127). */
export interface LogEntry {
  index: number
  term: number
  kind: number
  payload: Uint8Array
}

/** Raft hard state: what a node must remember across restarts to stay safe. */
export interface HardState {
  term: number
  /** Node id voted for in `term`, 0 for none. */
  vote: number
  commit: number
}

/** "Everything up to and including `index` (whose term is `term`) lives in a snapshot." */
export interface SnapshotMark {
  index: number
  term: number
}

/**
 * Everything one shard persists for one Raft Ready, applied in this order:
 * `snapshot`, `truncateFrom`, `entries`, `hardState`.
 *
 * - `snapshot`: entries ≤ index are compacted away. When index is past the last entry
 *   (a snapshot installed from the leader) the log becomes empty and continues at index+1.
 *   Save the snapshot file durably (SnapshotStore.save) before submitting its mark.
 * - `truncateFrom`: drop entries ≥ this index (a new leader overwrote them). Required
 *   whenever `entries[0].index` is not the current last index + 1; the WAL never
 *   truncates implicitly.
 * - `entries`: contiguous, starting at last index + 1, terms never decreasing.
 */
export interface ShardWrite {
  shard: number
  snapshot?: SnapshotMark
  truncateFrom?: number
  entries?: readonly LogEntry[]
  hardState?: HardState
}

/** A write is durable (or, with sync `none`, written): the shard's log is durable through `durableIndex`. */
export interface DurableAck {
  shard: number
  durableIndex: number
}

/** What recovery (and every later write) knows about one shard. */
export interface ShardState {
  shard: number
  /** Index covered by the latest snapshot mark, 0 when none. */
  snapshotIndex: number
  snapshotTerm: number
  /** First index readable from the WAL (snapshotIndex + 1); greater than lastIndex when the log is empty. */
  firstIndex: number
  lastIndex: number
  lastTerm: number
  hardState: HardState | undefined
}

export type SyncMode = 'always' | 'none'
