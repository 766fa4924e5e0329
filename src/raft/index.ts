// Public surface of the pure Raft core. See README.md for how to drive it.
export { RawNode, lostLeaderCampaignTicks, type ProgressStatus, type Status } from './raw-node.js'
export { Raft } from './raft.js'
export { MemoryStorage } from './memory-storage.js'
export type { RaftStorage, InitialState } from './storage.js'
export { createRng, type Rng } from './rng.js'
export { resolveConfig, leaseTicksFor, type RaftConfig, type RaftLogger, type ReadOnlyOption, type ResolvedRaftConfig } from './config.js'
export {
  decodeConfChange,
  encodeConfChange,
  MAX_CONF_CONTEXT_BYTES,
  type ConfChange,
  type ConfChangeType,
} from './conf-change.js'
export {
  ACCEPTED,
  RaftError,
  type Accepted,
  type ProposeResult,
  type RaftErrorCode,
  type RaftResult,
  type Rejection,
  type RejectionCode,
} from './errors.js'
export { ENTRY_OVERHEAD_BYTES, countWithinSize, entrySizeBytes, messageSizeBytes, splitMessagesBySize } from './entries.js'
export type { ProgressState } from './progress.js'
export {
  NONE,
  TRANSFER_CONTEXT,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type RaftRole,
  type ReadState,
  type Ready,
  type Snapshot,
  type SnapshotChunk,
  type SnapshotMetadata,
  type SoftState,
} from './types.js'
