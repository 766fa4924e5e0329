// Every shard's in-memory log index, kept identical whether it is built by replaying
// records at recovery or by applying writes as they become durable: both go through
// the same ShardLog operations in the same order (mark, truncate, entries, hard state).
import { EntryCache } from './entry-cache.js'
import { encodeHardState, encodeSnapshotMark, HARD_STATE_PAYLOAD_BYTES, RECORD_HEADER_BYTES, type WalRecord } from './record-codec.js'
import type { Segment } from './segment.js'
import { ShardLog } from './shard-log.js'
import type { EncodedWrite } from './shard-write-encoder.js'

export interface UncoveredGap {
  shard: number
  /** Entries up to here were missing from the replayed segments and no snapshot mark covers them. */
  missingThroughIndex: number
  snapshotIndex: number
}

export class LogIndex {
  readonly cache: EntryCache
  private readonly logs = new Map<number, ShardLog>()
  /** Recovery only: shard → the index through which entries were absent when replay reached it. */
  private readonly gaps = new Map<number, number>()

  constructor(cache: EntryCache) {
    this.cache = cache
  }

  get(shard: number): ShardLog | undefined {
    return this.logs.get(shard)
  }

  shards(): number[] {
    return [...this.logs.keys()].sort((a, b) => a - b)
  }

  private log(shard: number): ShardLog {
    let log = this.logs.get(shard)
    if (log === undefined) {
      log = new ShardLog(shard)
      this.logs.set(shard, log)
    }
    return log
  }

  /** Replays one record found by recovery. */
  applyRecovered(record: WalRecord, segment: Segment, offsetBytes: number, sizeBytes: number): void {
    const log = this.log(record.shard)
    switch (record.type) {
      case 'snapshotMark': {
        this.cache.released(log.mark(record.mark))
        const gap = this.gaps.get(record.shard)
        if (gap !== undefined && record.mark.index >= gap) this.gaps.delete(record.shard)
        return
      }
      case 'truncate':
        // Below the floor only when the floor was raised by a gap (see 'entry'): the
        // entries above it are still the ones this record removes.
        this.cache.released(log.truncateFrom(Math.max(record.fromIndex, log.snapshotIndex + 1)))
        return
      case 'hardState':
        log.hardState = record.hardState
        return
      case 'entry': {
        const { entry } = record
        if (entry.index <= log.lastIndex) {
          // An entry at or below the last index replaces the suffix from there (the writer
          // records a truncation this way when new entries come with it). Below the floor
          // only when a gap raised it (see below); the entries above it still go.
          this.cache.released(log.truncateFrom(Math.max(entry.index, log.snapshotIndex + 1)))
        }
        if (entry.index <= log.snapshotIndex) return
        if (entry.index > log.lastIndex + 1) {
          // The segments that held the entries before this one were deleted, which
          // happens only once a snapshot mark covers all their entries: that mark comes
          // later in the log (a record or a checkpoint), which finishRecovery checks.
          this.cache.released(log.mark({ index: entry.index - 1, term: 0 }))
          this.gaps.set(record.shard, entry.index - 1)
        }
        const payload = this.cache.admits(entry.payload.byteLength) ? Buffer.from(entry.payload) : undefined
        log.append(entry, { segment: segment.sequence, offset: offsetBytes, sizeBytes }, payload)
        if (payload !== undefined) this.cache.added(log, entry.index, payload.byteLength)
        segment.noteEntry(record.shard, entry.index)
        return
      }
    }
  }

  /** Gaps that no snapshot mark covered: entries lost from the middle of a shard's log. */
  finishRecovery(): UncoveredGap[] {
    const uncovered = [...this.gaps].map(([shard, missingThroughIndex]) => ({
      shard,
      missingThroughIndex,
      snapshotIndex: this.logs.get(shard)?.snapshotIndex ?? 0,
    }))
    this.gaps.clear()
    return uncovered
  }

  /** Applies a write that is now on disk at `baseOffset` of `segment`. */
  applyWrite(write: EncodedWrite, segment: Segment, baseOffset: number): void {
    const log = this.log(write.shard)
    if (write.snapshot !== undefined) this.cache.released(log.mark(write.snapshot))
    if (write.truncateFrom !== undefined) this.cache.released(log.truncateFrom(write.truncateFrom))
    for (const entry of write.entries) {
      const payload = this.cache.admits(entry.payload.byteLength) ? entry.payload : undefined
      log.append(entry, { segment: segment.sequence, offset: baseOffset + entry.offsetBytes, sizeBytes: entry.sizeBytes }, payload)
      if (payload !== undefined) this.cache.added(log, entry.index, payload.byteLength)
      segment.noteEntry(write.shard, entry.index)
    }
    if (write.hardState !== undefined) log.hardState = write.hardState
  }

  /**
   * Records that restate every shard's snapshot mark and hard state, written at the
   * start of each new segment. Deleting older segments then never loses a hard state
   * or a mark, whatever segment they were first written to.
   */
  checkpoint(): { buffer: Buffer; recordCount: number } {
    let size = 0
    let recordCount = 0
    for (const log of this.logs.values()) {
      if (log.snapshotIndex > 0) {
        size += RECORD_HEADER_BYTES
        recordCount++
      }
      if (log.hardState !== undefined) {
        size += RECORD_HEADER_BYTES + HARD_STATE_PAYLOAD_BYTES
        recordCount++
      }
    }
    const buffer = Buffer.allocUnsafe(size)
    let offset = 0
    for (const log of this.logs.values()) {
      if (log.snapshotIndex > 0) {
        offset += encodeSnapshotMark(buffer, offset, log.shard, { index: log.snapshotIndex, term: log.snapshotTerm })
      }
      if (log.hardState !== undefined) offset += encodeHardState(buffer, offset, log.shard, log.hardState)
    }
    return { buffer, recordCount }
  }

  /** Shards whose entries in `segment` are not yet covered by their snapshot mark. */
  pinnersOf(segment: Segment): Array<{ shard: number; maxIndex: number; snapshotIndex: number }> {
    const pinners: Array<{ shard: number; maxIndex: number; snapshotIndex: number }> = []
    for (const [shard, maxIndex] of segment.maxIndexByShard) {
      const snapshotIndex = this.logs.get(shard)?.snapshotIndex ?? 0
      if (maxIndex > snapshotIndex) pinners.push({ shard, maxIndex, snapshotIndex })
    }
    return pinners
  }
}
