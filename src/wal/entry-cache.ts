// One byte budget for the payloads of recent entries across every shard, evicted in
// write order. Raft asks for old entries only for lagging followers and at recovery,
// so "most recent first" is the whole policy.
import type { ShardLog } from './shard-log.js'

export class EntryCache {
  private readonly bytesMax: number
  private readonly entriesMax: number
  private bytes = 0
  private logs: ShardLog[] = []
  private indexes: number[] = []
  private head = 0

  constructor(bytesMax: number, entriesMax: number) {
    this.bytesMax = bytesMax
    this.entriesMax = entriesMax
  }

  get cachedBytes(): number {
    return this.bytes
  }

  /** Records that `log` now caches `sizeBytes` for `index`; evicts the oldest beyond the budget. */
  added(log: ShardLog, index: number, sizeBytes: number): void {
    this.logs.push(log)
    this.indexes.push(index)
    this.bytes += sizeBytes
    this.trim()
  }

  /** Bytes a log released by itself (truncation, compaction). */
  released(sizeBytes: number): void {
    this.bytes -= sizeBytes
  }

  /** Whether a payload of this size would be kept at all. */
  admits(sizeBytes: number): boolean {
    return sizeBytes <= this.bytesMax / 4
  }

  private trim(): void {
    // Stale queue items (entries already truncated or compacted) evict nothing; they
    // only count against entriesMax, which bounds the queue itself.
    while (this.bytes > this.bytesMax || this.logs.length - this.head > this.entriesMax) {
      const log = this.logs[this.head]!
      const index = this.indexes[this.head]!
      this.head++
      this.bytes -= log.evict(index)
    }
    if (this.head > 1024 && this.head * 2 > this.logs.length) {
      this.logs = this.logs.slice(this.head)
      this.indexes = this.indexes.slice(this.head)
      this.head = 0
    }
  }
}
