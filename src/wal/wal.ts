// The shared write-ahead log of a node: one sequence of segment files for every
// shard, written by group commit. Whatever shards submit while a batch is being
// written and synced forms the next batch: one writev, one fdatasync, then each
// write's promise resolves with the index through which its shard is durable.
import { mkdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { BATCH_BYTES_BOUNDS, BATCH_RECORDS_BOUNDS, BucketCounter, FSYNC_MS_BOUNDS, type BucketCounts } from './bucket-counts.js'
import { lockDirectory, type DirLock } from './dir-lock.js'
import { EntryCache } from './entry-cache.js'
import { WalError } from './errors.js'
import { fdatasync, fdatasyncSync, fsyncDirectory, openFile, writeAllAt, writeAllAtSync } from './fs-io.js'
import { LogIndex, type UncoveredGap } from './log-index.js'
import { locateEntries, readLocatedEntries } from './entry-reader.js'
import { recoverSegments, type RecoveryReport } from './recovery.js'
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, segmentFileName } from './segment-file.js'
import { Segment } from './segment.js'
import { encodeShardWrite, type AcceptedShard, type EncodedWrite } from './shard-write-encoder.js'
import type { DurableAck, LogEntry, ShardState, ShardWrite } from './types.js'
import { resolveWalOptions, type ResolvedWalOptions, type ShardPin, type WalOptions } from './wal-options.js'

export interface WalReceipt {
  /** Resolves once the write is durable (sync `always`) or written (sync `none`). */
  durable: Promise<DurableAck>
}

export interface WalRecovery extends RecoveryReport {
  /** Entries missing from the middle of a shard's log (damage, not a normal state). */
  uncoveredGaps: UncoveredGap[]
}

export interface WalStats {
  segments: number
  segmentBytes: number
  activeSegment: number
  queuedWrites: number
  queuedBytes: number
  waitingWrites: number
  cachedBytes: number
  batches: number
  recordsWritten: number
  bytesWritten: number
  /** fdatasync calls on batches (none with sync=none). */
  fsyncs: number
  /** Batches written blocking the thread (the rest went through libuv's pool; see WalOptions.blockingIoMaxMs). */
  blockingBatches: number
  /** Latency of those fdatasync calls, ms. */
  fsyncMs: BucketCounts
  /** Records per batch written (one writev, then one fdatasync with sync=always). */
  batchRecords: BucketCounts
  /** Bytes per batch written. */
  batchBytes: BucketCounts
}

interface QueuedWrite {
  encoded: EncodedWrite
  resolve: (ack: DurableAck) => void
  reject: (error: Error) => void
}

/** Weight of the latest batch in ioMsAverage: a slow disk is noticed within a few batches. */
const IO_AVERAGE_WEIGHT = 0.25

export class Wal {
  readonly recovery: WalRecovery
  private readonly options: ResolvedWalOptions
  private readonly index: LogIndex
  private readonly segments: Segment[]
  private active: Segment
  private readonly accepted = new Map<number, AcceptedShard>()
  private queue: QueuedWrite[] = []
  private queueHead = 0
  private queuedBytes = 0
  private waiting: Array<{ write: QueuedWrite; admit: () => void }> = []
  private inFlight: QueuedWrite[] = []
  private writing = false
  private idleWaiters: Array<() => void> = []
  private readonly reads = new Set<Promise<unknown>>()
  private failure: WalError | undefined
  private closed = false
  private closing: Promise<void> | undefined
  private batches = 0
  private recordsWritten = 0
  private bytesWritten = 0
  private fsyncs = 0
  private blockingBatches = 0
  /** Moving average of a batch's writev + fdatasync time, ms (see WalOptions.blockingIoMaxMs). */
  private ioMsAverage = 0
  private readonly fsyncMs = new BucketCounter(FSYNC_MS_BOUNDS)
  private readonly batchRecords = new BucketCounter(BATCH_RECORDS_BOUNDS)
  private readonly batchBytes = new BucketCounter(BATCH_BYTES_BOUNDS)

  private readonly lock: DirLock

  private constructor(
    options: ResolvedWalOptions,
    lock: DirLock,
    index: LogIndex,
    segments: Segment[],
    active: Segment,
    recovery: WalRecovery,
  ) {
    this.options = options
    this.lock = lock
    this.index = index
    this.segments = segments
    this.active = active
    this.recovery = recovery
  }

  /** Opens (creating if needed) the log in `options.dir` and recovers it. */
  static async open(walOptions: WalOptions): Promise<Wal> {
    const options = resolveWalOptions(walOptions)
    await mkdir(options.dir, { recursive: true })
    const lock = await lockDirectory(options.dir)
    let segments: Segment[] = []
    try {
      const index = new LogIndex(new EntryCache(options.cacheBytesMax, options.cacheEntriesMax))
      const recovered = await recoverSegments(options.dir, options.payloadBytesMax, (record, segment, offset, size) =>
        index.applyRecovered(record, segment, offset, size),
      )
      segments = recovered.segments
      const recovery: WalRecovery = { ...recovered.report, uncoveredGaps: index.finishRecovery() }
      // Always continue in a fresh segment: the recovered tail stays exactly as verified.
      const nextSequence = (segments[segments.length - 1]?.sequence ?? 0) + 1
      const active = await createSegment(options, index, nextSequence)
      segments.push(active)
      const wal = new Wal(options, lock, index, segments, active, recovery)
      await wal.releaseSegments()
      return wal
    } catch (error) {
      for (const segment of segments) await segment.retire()
      await lock.release()
      throw error
    }
  }

  /**
   * Validates and queues one shard's write. Resolves once the write is accepted, which
   * waits while the queue is over `pendingWritesMax` / `pendingBytesMax` (backpressure);
   * the receipt's `durable` resolves once it is on disk. Rejects with WAL_INVALID_ARGUMENT,
   * WAL_NOT_CONTIGUOUS, WAL_COMPACTED, WAL_WRITE_TOO_LARGE, WAL_CLOSED, WAL_FAILED, or
   * WAL_OVERLOADED when `pendingWritesMax` writes are already waiting (callers that
   * await each submit never see it).
   */
  submit(write: ShardWrite): Promise<WalReceipt> {
    try {
      this.assertUsable()
      const before = this.acceptedState(write.shard)
      const encoded = encodeShardWrite(write, before, {
        payloadBytesMax: this.options.payloadBytesMax,
        writeBytesMax: this.options.batchBytesMax,
      })
      const mustWait = this.waiting.length > 0 || !this.hasRoomFor(encoded)
      if (mustWait && this.waiting.length >= this.options.pendingWritesMax) {
        throw new WalError('WAL_OVERLOADED', `${this.waiting.length} writes already wait for room; submit less at once`)
      }
      this.accepted.set(write.shard, encoded.after)
      let queued: QueuedWrite | undefined
      const durable = new Promise<DurableAck>((resolve, reject) => {
        queued = { encoded, resolve, reject }
      })
      // The caller may only look at `durable` later; a failure must not count as unhandled meanwhile.
      durable.catch(() => undefined)
      const receipt: WalReceipt = { durable }
      if (!mustWait) {
        this.enqueue(queued!)
        return Promise.resolve(receipt)
      }
      return new Promise<WalReceipt>((resolve) => {
        this.waiting.push({ write: queued!, admit: () => resolve(receipt) })
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** `submit` and wait until durable. */
  async append(write: ShardWrite): Promise<DurableAck> {
    const receipt = await this.submit(write)
    return receipt.durable
  }

  /** Shards that have anything in the log, ascending. */
  shards(): number[] {
    return this.index.shards()
  }

  /** The durable state of a shard's log (all zero for a shard never written). */
  shardState(shard: number): ShardState {
    const log = this.index.get(shard)
    if (log !== undefined) return log.state()
    return { shard, snapshotIndex: 0, snapshotTerm: 0, firstIndex: 1, lastIndex: 0, lastTerm: 0, hardState: undefined }
  }

  /** Term of a durable entry (or of the snapshot mark's index); undefined outside the log. */
  term(shard: number, index: number): number | undefined {
    return this.index.get(shard)?.termAt(index)
  }

  /**
   * Durable entries [fromIndex, toIndexExclusive) of a shard, stopping early once
   * `maxBytes` of payload is reached (always at least one entry). Recent entries come
   * from memory, older ones from disk (CRC-checked again). WAL_COMPACTED when fromIndex
   * is covered by the snapshot mark; WAL_OUT_OF_RANGE past the last durable index.
   */
  readEntries(shard: number, fromIndex: number, toIndexExclusive: number, maxBytes = this.options.readBytesMax): Promise<LogEntry[]> {
    try {
      this.assertUsable()
      const located = locateEntries(this.index.get(shard), shard, fromIndex, toIndexExclusive, maxBytes)
      const read = readLocatedEntries(located, this.segments, this.options.payloadBytesMax)
      this.reads.add(read)
      void read.finally(() => this.reads.delete(read)).catch(() => undefined)
      return read
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Shards holding back the deletion of old segments, the one pinning the oldest
   * segment first. Ask them to snapshot (and then submit the snapshot mark).
   */
  pinnedBy(): ShardPin[] {
    const pins: ShardPin[] = []
    const seen = new Set<number>()
    for (const segment of this.segments) {
      if (segment === this.active) break
      for (const pinner of this.index.pinnersOf(segment)) {
        if (seen.has(pinner.shard)) continue
        seen.add(pinner.shard)
        pins.push({
          shard: pinner.shard,
          oldestSegment: segment.sequence,
          neededSnapshotIndex: pinner.maxIndex,
          snapshotIndex: pinner.snapshotIndex,
        })
      }
    }
    return pins
  }

  stats(): WalStats {
    return {
      segments: this.segments.length,
      segmentBytes: this.segments.reduce((sum, s) => sum + s.sizeBytes, 0),
      activeSegment: this.active.sequence,
      queuedWrites: this.queue.length - this.queueHead,
      queuedBytes: this.queuedBytes,
      waitingWrites: this.waiting.length,
      cachedBytes: this.index.cache.cachedBytes,
      batches: this.batches,
      recordsWritten: this.recordsWritten,
      bytesWritten: this.bytesWritten,
      fsyncs: this.fsyncs,
      blockingBatches: this.blockingBatches,
      fsyncMs: this.fsyncMs.snapshot(),
      batchRecords: this.batchRecords.snapshot(),
      batchBytes: this.batchBytes.snapshot(),
    }
  }

  /** Stops accepting writes, writes (and syncs) everything already accepted, closes the files. */
  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    this.closed = true
    await new Promise<void>((resolve) => {
      if (this.isIdle()) resolve()
      else this.idleWaiters.push(resolve)
    })
    await Promise.allSettled([...this.reads])
    for (const segment of this.segments) await segment.retire()
    await this.lock.release()
  }

  private assertUsable(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.closed) throw new WalError('WAL_CLOSED', 'the WAL is closed')
  }

  private acceptedState(shard: number): AcceptedShard {
    const known = this.accepted.get(shard)
    if (known !== undefined) return known
    const log = this.index.get(shard)
    if (log === undefined) return { snapshotIndex: 0, lastIndex: 0, lastTerm: 0 }
    return { snapshotIndex: log.snapshotIndex, lastIndex: log.lastIndex, lastTerm: log.lastTerm }
  }

  private hasRoomFor(encoded: EncodedWrite): boolean {
    const queued = this.queue.length - this.queueHead
    if (queued === 0) return true
    return queued < this.options.pendingWritesMax && this.queuedBytes + encoded.buffer.byteLength <= this.options.pendingBytesMax
  }

  private enqueue(write: QueuedWrite): void {
    this.queue.push(write)
    this.queuedBytes += write.encoded.buffer.byteLength
    if (!this.writing) {
      this.writing = true
      // Start once the immediates queued in this turn have run, not on a
      // microtask: shard replicas pump at setImmediate, and a microtask
      // would start the batch right after the first of them, so the other
      // shards' writes of the same turn would wait for the next fsync.
      setImmediate(() => void this.drain())
    }
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.hasRoomFor(this.waiting[0]!.write.encoded)) {
      const { write, admit } = this.waiting.shift()!
      this.enqueue(write)
      admit()
    }
  }

  private isIdle(): boolean {
    return !this.writing && this.queue.length === this.queueHead && this.waiting.length === 0
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > this.queueHead && this.failure === undefined) {
        const batch = this.takeBatch()
        this.admitWaiting()
        await this.writeBatch(batch)
      }
    } catch (error) {
      this.fail(error)
    } finally {
      this.writing = false
      if (this.isIdle() || this.failure !== undefined) {
        const waiters = this.idleWaiters
        this.idleWaiters = []
        for (const wake of waiters) wake()
      }
    }
  }

  private takeBatch(): QueuedWrite[] {
    const batch: QueuedWrite[] = []
    let bytes = 0
    let records = 0
    while (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead]!
      const size = next.encoded.buffer.byteLength
      if (batch.length > 0 && (bytes + size > this.options.batchBytesMax || records + next.encoded.recordCount > this.options.batchRecordsMax)) {
        break
      }
      batch.push(next)
      bytes += size
      records += next.encoded.recordCount
      this.queueHead++
    }
    this.queuedBytes -= bytes
    if (this.queueHead === this.queue.length) {
      this.queue = []
      this.queueHead = 0
    } else if (this.queueHead > 4096) {
      this.queue = this.queue.slice(this.queueHead)
      this.queueHead = 0
    }
    this.inFlight = batch
    return batch
  }

  private async writeBatch(batch: QueuedWrite[]): Promise<void> {
    const buffers = batch.map((w) => w.encoded.buffer)
    let bytes = 0
    let records = 0
    for (const w of batch) {
      bytes += w.encoded.buffer.byteLength
      records += w.encoded.recordCount
    }
    const writeStart = performance.now()
    if (this.active.sizeBytes > SEGMENT_HEADER_BYTES && this.active.sizeBytes + bytes > this.options.segmentBytesMax) {
      await this.roll()
    }
    const segment = this.active
    const base = segment.sizeBytes
    if (base + bytes > segment.allocatedBytes) await preallocate(segment, base + bytes, this.options)
    let syncStart = performance.now()
    const ioStart = syncStart
    const blocking = this.ioMsAverage < this.options.blockingIoMaxMs
    if (bytes > 0) {
      if (blocking) writeAllAtSync(segment.fd, buffers, base)
      else await writeAllAt(segment.fd, buffers, base)
      segment.sizeBytes += bytes
      syncStart = performance.now()
      if (this.options.sync === 'always') {
        if (blocking) fdatasyncSync(segment.fd)
        else await fdatasync(segment.fd)
      }
    }
    const syncEnd = performance.now()
    if (bytes > 0) {
      this.ioMsAverage += (syncEnd - ioStart - this.ioMsAverage) * IO_AVERAGE_WEIGHT
      if (blocking) this.blockingBatches++
    }
    this.batches++
    this.recordsWritten += records
    this.bytesWritten += bytes
    if (bytes > 0) {
      this.batchRecords.observe(records)
      this.batchBytes.observe(bytes)
      if (this.options.sync === 'always') {
        this.fsyncs++
        this.fsyncMs.observe(syncEnd - syncStart)
      }
    }
    let offset = base
    let releases = false
    for (const w of batch) {
      this.index.applyWrite(w.encoded, segment, offset)
      offset += w.encoded.buffer.byteLength
      releases ||= w.encoded.snapshot !== undefined
    }
    this.inFlight = []
    if (this.options.onBatch !== undefined) {
      this.options.onBatch({ writes: batch.length, records, bytes, writeMs: syncStart - writeStart, syncMs: syncEnd - syncStart })
    }
    for (const w of batch) w.resolve({ shard: w.encoded.shard, durableIndex: w.encoded.after.lastIndex })
    if (releases) await this.releaseSegments()
  }

  private async roll(): Promise<void> {
    const segment = await createSegment(this.options, this.index, this.active.sequence + 1)
    this.segments.push(segment)
    this.active = segment
    await this.releaseSegments()
    const retained = this.segments.length - 1
    if (retained > this.options.retainedSegmentsSoftMax && this.options.onSnapshotRequested !== undefined) {
      try {
        this.options.onSnapshotRequested(this.pinnedBy())
      } catch (error) {
        process.emitWarning(`WAL onSnapshotRequested threw: ${String(error)}`)
      }
    }
  }

  /** Deletes the oldest segments while every entry in them is covered by a snapshot mark. */
  private async releaseSegments(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0] !== this.active) {
      const oldest = this.segments[0]!
      if (this.index.pinnersOf(oldest).length > 0) return
      this.segments.shift()
      // No directory fsync: if the unlink is lost in a crash, recovery replays the old
      // segment harmlessly (newer snapshot marks cover it) or drops it as a gap.
      await unlink(oldest.path)
      await oldest.retire()
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return
    // After a failed write or fsync the page cache may no longer match the disk
    // (the kernel can drop the dirty pages), so retrying could confirm lost data.
    this.failure = new WalError('WAL_FAILED', `WAL write failed: ${String(error)}`, { cause: error })
    const failure = this.failure
    for (const w of this.inFlight) w.reject(failure)
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i]!.reject(failure)
    for (const { write, admit } of this.waiting) {
      write.reject(failure)
      admit()
    }
    this.inFlight = []
    this.queue = []
    this.queueHead = 0
    this.queuedBytes = 0
    this.waiting = []
  }
}

async function createSegment(options: ResolvedWalOptions, index: LogIndex, sequence: number): Promise<Segment> {
  if (sequence > 0xffff_ffff) throw new WalError('WAL_FAILED', 'segment sequence exhausted')
  const path = join(options.dir, segmentFileName(sequence))
  const fd = await openFile(path, 'wx+')
  const header = encodeSegmentHeader(sequence)
  const checkpoint = index.checkpoint()
  await writeAllAt(fd, [header, checkpoint.buffer], 0)
  // Preallocation waits for the first batch, so that opening a log only to read it stays cheap.
  const segment = new Segment(sequence, path, fd, header.byteLength + checkpoint.buffer.byteLength)
  if (options.sync === 'always') {
    await fdatasync(fd)
    await fsyncDirectory(options.dir)
  }
  return segment
}

let zeros: Buffer | undefined

/** Fills the segment with zeros through at least `neededBytes`, up to preallocateBytes ahead. */
async function preallocate(segment: Segment, neededBytes: number, options: ResolvedWalOptions): Promise<void> {
  if (options.preallocateBytes === 0) return
  const target = Math.max(neededBytes, Math.min(options.segmentBytesMax, neededBytes + options.preallocateBytes))
  if (target <= segment.allocatedBytes) return
  const chunkBytes = 1 << 20
  zeros ??= Buffer.alloc(chunkBytes)
  // Bounded by target - allocatedBytes ≤ preallocateBytes + one batch.
  for (let at = segment.allocatedBytes; at < target; at += chunkBytes) {
    await writeAllAt(segment.fd, [zeros.subarray(0, Math.min(chunkBytes, target - at))], at)
  }
  segment.allocatedBytes = target
}
