import { WalError } from './errors.js'
import type { SyncMode } from './types.js'

/** A shard holding back the deletion of old segments (see Wal.pinnedBy). */
export interface ShardPin {
  shard: number
  /** The oldest segment this shard keeps alive. */
  oldestSegment: number
  /** A snapshot through at least this index releases that segment. */
  neededSnapshotIndex: number
  snapshotIndex: number
}

/** What one group commit did; for metrics. */
export interface BatchReport {
  writes: number
  records: number
  bytes: number
  /** Time in writev (and preallocation, and a roll when one happened). */
  writeMs: number
  /** Time in fdatasync (0 with sync `none`). */
  syncMs: number
}

export interface WalOptions {
  /** Directory of the segment files (created if missing). */
  dir: string
  /** `always`: fdatasync before confirming a batch; `none`: confirm once written. Default `always`. */
  sync?: SyncMode
  /** A segment rolls before a batch would take it past this size. Default 64 MiB, at most 1 GiB. */
  segmentBytesMax?: number
  /**
   * Segments are filled with zeros this far ahead of the write position (and never past
   * segmentBytesMax), so that most fdatasync calls flush data only, not a new file size.
   * Costs writing every byte twice; 0 disables it. Default 4 MiB.
   */
  preallocateBytes?: number
  /** Bytes written per batch (one writev + one fdatasync). A single write may not exceed it. Default 16 MiB. */
  batchBytesMax?: number
  /** Records per batch. Default 8192. */
  batchRecordsMax?: number
  /** Bytes accepted but not yet written; beyond it `submit` waits. Default 64 MiB. */
  pendingBytesMax?: number
  /** Writes accepted but not yet written; beyond it `submit` waits. As many more may wait; beyond that, WAL_OVERLOADED. Default 16384. */
  pendingWritesMax?: number
  /** Largest entry payload (a 10 MiB request plus framing). Default 11 MiB; below batchBytesMax. */
  payloadBytesMax?: number
  /** Budget for payloads of recent entries kept in memory for reads. Default 64 MiB. */
  cacheBytesMax?: number
  /** Bound on cached entries (and on the eviction queue). Default 1,000,000. */
  cacheEntriesMax?: number
  /** Default bound on the payload bytes one `readEntries` call returns. Default 16 MiB. */
  readBytesMax?: number
  /** When more segments than this are kept besides the active one, `onSnapshotRequested` fires (once per roll). Default 4. */
  retainedSegmentsSoftMax?: number
  /**
   * A batch's writev and fdatasync block the writer's thread while their
   * recent average time (ms) stays below this: a fast disk then costs no hop
   * through libuv's thread pool and back. Slower batches go to the pool, so
   * a slow or stalled disk does not hold up the other work of the thread.
   * 0: always the pool. Default 1.
   */
  blockingIoMaxMs?: number
  /** Asks the node to snapshot the shards that pin old segments. Must not throw. */
  onSnapshotRequested?: (pins: ShardPin[]) => void
  /** Called after each batch is durable, before its writers are told. Must not throw. */
  onBatch?: (report: BatchReport) => void
}

export type ResolvedWalOptions = Required<Omit<WalOptions, 'onSnapshotRequested' | 'onBatch'>> &
  Pick<WalOptions, 'onSnapshotRequested' | 'onBatch'>

export const WAL_DEFAULTS = {
  sync: 'always',
  segmentBytesMax: 64 * 1024 * 1024,
  preallocateBytes: 4 * 1024 * 1024,
  batchBytesMax: 16 * 1024 * 1024,
  batchRecordsMax: 8192,
  pendingBytesMax: 64 * 1024 * 1024,
  pendingWritesMax: 16384,
  payloadBytesMax: 11 * 1024 * 1024,
  cacheBytesMax: 64 * 1024 * 1024,
  cacheEntriesMax: 1_000_000,
  readBytesMax: 16 * 1024 * 1024,
  retainedSegmentsSoftMax: 4,
  blockingIoMaxMs: 1,
} as const satisfies Omit<ResolvedWalOptions, 'dir'>

const GIB = 1024 * 1024 * 1024

export function resolveWalOptions(options: WalOptions): ResolvedWalOptions {
  const resolved: ResolvedWalOptions = { ...WAL_DEFAULTS, ...stripUndefined(options), dir: options.dir }
  // Defaults shrink to fit a small segment bound; explicit values are checked as given.
  if (options.batchBytesMax === undefined) resolved.batchBytesMax = Math.min(resolved.batchBytesMax, resolved.segmentBytesMax)
  if (options.payloadBytesMax === undefined) {
    resolved.payloadBytesMax = Math.min(resolved.payloadBytesMax, resolved.batchBytesMax - 64)
  }
  const positive = (name: keyof ResolvedWalOptions, max: number) => {
    const value = resolved[name]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
      throw new WalError('WAL_INVALID_ARGUMENT', `option ${name} must be an integer in [1, ${max}], got ${String(value)}`)
    }
  }
  positive('segmentBytesMax', GIB)
  positive('batchBytesMax', Math.min(256 * 1024 * 1024, resolved.segmentBytesMax))
  positive('batchRecordsMax', 1_000_000)
  if (!Number.isInteger(resolved.preallocateBytes) || resolved.preallocateBytes < 0 || resolved.preallocateBytes > GIB) {
    throw new WalError('WAL_INVALID_ARGUMENT', `option preallocateBytes must be an integer in [0, ${GIB}]`)
  }
  positive('pendingBytesMax', 16 * GIB)
  positive('pendingWritesMax', 10_000_000)
  positive('payloadBytesMax', resolved.batchBytesMax - 64)
  positive('cacheBytesMax', 16 * GIB)
  positive('cacheEntriesMax', 100_000_000)
  positive('readBytesMax', GIB)
  positive('retainedSegmentsSoftMax', 1_000_000)
  if (typeof resolved.blockingIoMaxMs !== 'number' || !(resolved.blockingIoMaxMs >= 0 && resolved.blockingIoMaxMs <= 1000)) {
    throw new WalError('WAL_INVALID_ARGUMENT', `option blockingIoMaxMs must be a number in [0, 1000], got ${String(resolved.blockingIoMaxMs)}`)
  }
  if (resolved.sync !== 'always' && resolved.sync !== 'none') {
    throw new WalError('WAL_INVALID_ARGUMENT', `option sync must be 'always' or 'none'`)
  }
  return resolved
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
