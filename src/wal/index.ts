export { Wal, type WalReceipt, type WalRecovery, type WalStats } from './wal.js'
export type { BucketCounts } from './bucket-counts.js'
export { WAL_DEFAULTS, type BatchReport, type ShardPin, type WalOptions } from './wal-options.js'
export { WalError, isWalError, type WalErrorCode } from './errors.js'
export type { DurableAck, HardState, LogEntry, ShardState, ShardWrite, SnapshotMark, SyncMode } from './types.js'
export type { RecoveryReport } from './recovery.js'
export type { UncoveredGap } from './log-index.js'
export {
  SnapshotStore,
  SNAPSHOT_STORE_DEFAULTS,
  type LoadedSnapshot,
  type SavedSnapshot,
  type SaveOptions,
  type SnapshotMeta,
  type SnapshotStoreOptions,
} from './snapshot-store.js'
