// The in-memory index of one shard's log: where each entry lives on disk, its term
// and kind, and (for recent entries) the payload itself. About 21 bytes per entry
// plus cached payloads; entries below the snapshot mark are dropped.
import type { HardState, LogEntry, ShardState, SnapshotMark } from './types.js'

export interface EntryLocation {
  segment: number
  offset: number
  sizeBytes: number
}

export interface IndexedEntry extends EntryLocation {
  index: number
  term: number
  kind: number
  /** Present while the entry is in the cache. */
  payload: Uint8Array | undefined
}

const INITIAL_CAPACITY = 64

export class ShardLog {
  readonly shard: number
  snapshotIndex = 0
  snapshotTerm = 0
  hardState: HardState | undefined
  /** Bytes of payloads held by this log (counted in the shared cache budget). */
  cachedBytes = 0
  private head = 0
  private count = 0
  private segments = new Uint32Array(INITIAL_CAPACITY)
  private offsets = new Uint32Array(INITIAL_CAPACITY)
  private sizes = new Uint32Array(INITIAL_CAPACITY)
  private terms = new Float64Array(INITIAL_CAPACITY)
  private kinds = new Uint8Array(INITIAL_CAPACITY)
  private payloads: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(INITIAL_CAPACITY)

  constructor(shard: number) {
    this.shard = shard
  }

  get firstIndex(): number {
    return this.snapshotIndex + 1
  }

  get lastIndex(): number {
    return this.snapshotIndex + this.count
  }

  get lastTerm(): number {
    return this.count === 0 ? this.snapshotTerm : this.terms[this.head + this.count - 1]!
  }

  get entryCount(): number {
    return this.count
  }

  state(): ShardState {
    return {
      shard: this.shard,
      snapshotIndex: this.snapshotIndex,
      snapshotTerm: this.snapshotTerm,
      firstIndex: this.firstIndex,
      lastIndex: this.lastIndex,
      lastTerm: this.lastTerm,
      hardState: this.hardState === undefined ? undefined : { ...this.hardState },
    }
  }

  /** Term of `index`, also for the snapshot mark itself; undefined outside the log. */
  termAt(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm
    const slot = this.slotOf(index)
    return slot === -1 ? undefined : this.terms[slot]
  }

  entryAt(index: number): IndexedEntry | undefined {
    const slot = this.slotOf(index)
    if (slot === -1) return undefined
    return {
      index,
      term: this.terms[slot]!,
      kind: this.kinds[slot]!,
      segment: this.segments[slot]!,
      offset: this.offsets[slot]!,
      sizeBytes: this.sizes[slot]!,
      payload: this.payloads[slot],
    }
  }

  /** Appends at lastIndex + 1 (the caller validated contiguity). */
  append(entry: Omit<LogEntry, 'payload'>, location: EntryLocation, payload: Uint8Array | undefined): void {
    if (entry.index !== this.lastIndex + 1) {
      throw new Error(`shard ${this.shard}: append at ${entry.index}, expected ${this.lastIndex + 1}`)
    }
    if (this.head + this.count === this.terms.length) this.makeRoom()
    const slot = this.head + this.count
    this.segments[slot] = location.segment
    this.offsets[slot] = location.offset
    this.sizes[slot] = location.sizeBytes
    this.terms[slot] = entry.term
    this.kinds[slot] = entry.kind
    this.payloads[slot] = payload
    if (payload !== undefined) this.cachedBytes += payload.byteLength
    this.count++
  }

  /** Drops entries ≥ fromIndex. Returns the payload bytes released from the cache. */
  truncateFrom(fromIndex: number): number {
    if (fromIndex <= this.snapshotIndex) {
      throw new Error(`shard ${this.shard}: truncate from ${fromIndex} at or below snapshot ${this.snapshotIndex}`)
    }
    const keep = Math.min(this.count, fromIndex - this.snapshotIndex - 1)
    return this.dropTail(this.count - keep)
  }

  /** Applies a snapshot mark (see ShardWrite.snapshot). Returns the payload bytes released. */
  mark(mark: SnapshotMark): number {
    if (mark.index < this.snapshotIndex) return 0
    if (mark.index === this.snapshotIndex) {
      // Recovery may have raised the floor to this index without knowing its term.
      this.snapshotTerm = mark.term
      return 0
    }
    let freed: number
    if (mark.index >= this.lastIndex) {
      freed = this.dropTail(this.count)
      this.head = 0
    } else {
      freed = this.dropHead(mark.index - this.snapshotIndex)
    }
    this.snapshotIndex = mark.index
    this.snapshotTerm = mark.term
    return freed
  }

  /** Releases the cached payload of `index` if it is cached. Returns the bytes released. */
  evict(index: number): number {
    const slot = this.slotOf(index)
    if (slot === -1) return 0
    const payload = this.payloads[slot]
    if (payload === undefined) return 0
    this.payloads[slot] = undefined
    this.cachedBytes -= payload.byteLength
    return payload.byteLength
  }

  private slotOf(index: number): number {
    const offset = index - this.snapshotIndex - 1
    if (!Number.isInteger(offset) || offset < 0 || offset >= this.count) return -1
    return this.head + offset
  }

  private dropTail(n: number): number {
    let freed = 0
    for (let i = 0; i < n; i++) {
      const slot = this.head + this.count - 1
      freed += this.payloads[slot]?.byteLength ?? 0
      this.payloads[slot] = undefined
      this.count--
    }
    this.cachedBytes -= freed
    return freed
  }

  private dropHead(n: number): number {
    let freed = 0
    for (let i = 0; i < n; i++) {
      freed += this.payloads[this.head]?.byteLength ?? 0
      this.payloads[this.head] = undefined
      this.head++
      this.count--
    }
    this.cachedBytes -= freed
    return freed
  }

  private makeRoom(): void {
    const capacity = this.terms.length
    // Reuse the space freed by compaction before growing.
    const next = this.head >= capacity / 2 ? capacity : capacity * 2
    const move = <A extends Uint32Array | Float64Array | Uint8Array>(from: A, to: A): A => {
      to.set(from.subarray(this.head, this.head + this.count))
      return to
    }
    this.segments = move(this.segments, next === capacity ? this.segments : new Uint32Array(next))
    this.offsets = move(this.offsets, next === capacity ? this.offsets : new Uint32Array(next))
    this.sizes = move(this.sizes, next === capacity ? this.sizes : new Uint32Array(next))
    this.terms = move(this.terms, next === capacity ? this.terms : new Float64Array(next))
    this.kinds = move(this.kinds, next === capacity ? this.kinds : new Uint8Array(next))
    const payloads = this.payloads.slice(this.head, this.head + this.count)
    payloads.length = next
    this.payloads = payloads
    this.head = 0
  }
}
