// Per-shard snapshot files under `<dir>/shard-<id>/snap-<16-digit index>.snap`.
// A save writes a temp file, fsyncs it, renames it into place and fsyncs the
// directory, so a crash at any instant leaves either the old set of snapshots or the
// old set plus the complete new one. Older snapshots are kept (`retainCount`) so a
// load can fall back when the newest turns out to be damaged.
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { unpack } from 'msgpackr'
import { crc32c } from '@node-rs/crc32'
import { Piscina } from 'piscina'
import { WalError } from './errors.js'
import { SerialQueue } from './serial-queue.js'
import { closeFile, fstat, fsyncDirectory, fsyncFile, openFile, readFullyAt, writeAllAt } from './fs-io.js'
import { assertSafeU64 } from './safe-u64.js'
import {
  readSnapshotHeader,
  SNAPSHOT_HEADER_BYTES,
  SnapshotFlag,
  writeSnapshotHeader,
  type SnapshotHeader,
  type SnapshotMeta,
} from './snapshot-format.js'
import { runSnapshotTask, type SnapshotTask } from './snapshot-worker.js'

export type { SnapshotMeta } from './snapshot-format.js'

/** Bytes written between two fsyncs of a snapshot file. */
const WRITE_SLICE_BYTES = 8 * 1024 * 1024

export interface SnapshotStoreOptions {
  /** Root directory of all shards' snapshots (created if missing). */
  dir: string
  /** Compress bodies with deflate-raw unless a save says otherwise. Default false. */
  compress?: boolean
  /** zlib level when compressing. Default 1 (fast; snapshots are written often). */
  compressionLevel?: number
  /** Bodies at least this large are encoded, compressed and checksummed in the pool. Default 256 KiB. */
  offloadBytesMin?: number
  /** Snapshots kept per shard, newest first, so that a damaged newest one has a fallback. Default 2. */
  retainCount?: number
  /** Largest raw body accepted on save and on load. Default 1 GiB. */
  snapshotBytesMax?: number
  /** Pool threads. Default 1: snapshot work is background work. */
  poolThreadsMax?: number
}

export interface SaveOptions {
  compress?: boolean
}

export interface SavedSnapshot extends SnapshotMeta {
  path: string
  sizeBytes: number
}

export interface LoadedSnapshot extends SnapshotMeta {
  path: string
  /** The raw body (for `saveValue` snapshots: the msgpack bytes of `value`). */
  payload: Uint8Array
  /** Present when saved with `saveValue`. */
  value?: unknown
  /** Newer snapshot files that failed verification and were passed over. */
  skipped: Array<{ path: string; reason: string }>
}

const SNAPSHOT_FILE = /^snap-(\d{16})\.snap$/
const TEMP_MARK = '.tmp-'

export const SNAPSHOT_STORE_DEFAULTS = {
  compress: false,
  compressionLevel: 1,
  offloadBytesMin: 256 * 1024,
  retainCount: 2,
  snapshotBytesMax: 1024 * 1024 * 1024,
  poolThreadsMax: 1,
} as const

export class SnapshotStore {
  private readonly dir: string
  private readonly options: Required<Omit<SnapshotStoreOptions, 'dir'>>
  private pool: Piscina<SnapshotTask, Uint8Array> | undefined
  /** Saves of one shard run one after another (pruning must not race a save). */
  private readonly shardQueues = new Map<number, SerialQueue>()
  /**
   * Snapshot files are written one at a time, whatever their shard: each
   * slice is written and fsynced through libuv's shared thread pool, and
   * several images at once kept the pool and the disk from the WAL's fsyncs
   * (eight 15 MB snapshots together held WAL writes back 300 ms and more).
   */
  private readonly writes = new SerialQueue()
  private readonly cleanedShards = new Set<number>()
  private tempCounter = 0
  private closed = false
  private pooledTasks = 0
  private inlineTasks = 0

  constructor(options: SnapshotStoreOptions) {
    this.dir = options.dir
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
    this.options = { ...SNAPSHOT_STORE_DEFAULTS, ...defined }
    const { retainCount, poolThreadsMax, compressionLevel } = this.options
    if (!Number.isInteger(retainCount) || retainCount < 1 || retainCount > 100) {
      throw new WalError('WAL_INVALID_ARGUMENT', 'retainCount must be an integer in [1, 100]')
    }
    if (!Number.isInteger(poolThreadsMax) || poolThreadsMax < 1 || poolThreadsMax > 64) {
      throw new WalError('WAL_INVALID_ARGUMENT', 'poolThreadsMax must be an integer in [1, 64]')
    }
    if (!Number.isInteger(compressionLevel) || compressionLevel < 0 || compressionLevel > 9) {
      throw new WalError('WAL_INVALID_ARGUMENT', 'compressionLevel must be an integer in [0, 9]')
    }
  }

  /**
   * Durably saves `payload` as the snapshot of `meta.shard` through
   * `meta.index`. Uncompressed (the default), the body is only checksummed,
   * in slices on this thread (the native CRC32C runs at gigabytes per
   * second), and written as it is after its header: no copy of it to the
   * pool and no image back, which for a large state were two more copies
   * of it in memory and cost more CPU than the checksum.
   */
  save(meta: SnapshotMeta, payload: Uint8Array, options: SaveOptions = {}): Promise<SavedSnapshot> {
    return this.serialize(meta.shard, async () => {
      this.checkMeta(meta, payload.byteLength)
      const flags = this.flags(options)
      if ((flags & SnapshotFlag.compressed) === 0) {
        this.inlineTasks++
        const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES)
        writeSnapshotHeader(header, meta, flags, payload.byteLength, payload.byteLength, await crc32cInSlices(payload))
        return this.writeImage(meta, [header, payload])
      }
      const task: SnapshotTask = { op: 'seal', meta: copyMeta(meta), raw: payload, flags, compressionLevel: this.options.compressionLevel }
      const image = await this.run(task, payload.byteLength)
      return this.writeImage(meta, [image])
    })
  }

  /**
   * Encodes `value` with msgpack (in the pool) and saves it. The value is copied to the
   * pool thread by structured clone, which costs about as much as encoding it here; the
   * gain is that compression and checksumming leave the calling thread.
   */
  saveValue(meta: SnapshotMeta, value: unknown, options: SaveOptions & { sizeHintBytes?: number } = {}): Promise<SavedSnapshot> {
    return this.serialize(meta.shard, async () => {
      this.checkMeta(meta, 0)
      const flags = this.flags(options)
      const task: SnapshotTask = { op: 'sealValue', meta: copyMeta(meta), value, flags, compressionLevel: this.options.compressionLevel }
      const image = await this.run(task, options.sizeHintBytes ?? this.options.offloadBytesMin)
      const rawBytes = readSnapshotHeader(image).rawBytes
      if (rawBytes > this.options.snapshotBytesMax) {
        throw new WalError('SNAPSHOT_TOO_LARGE', `snapshot of ${rawBytes} bytes exceeds ${this.options.snapshotBytesMax}`)
      }
      return this.writeImage(meta, [image])
    })
  }

  /** The newest snapshot of `shard` that passes verification, or undefined when none does. */
  async load(shard: number): Promise<LoadedSnapshot | undefined> {
    this.assertOpen()
    const skipped: LoadedSnapshot['skipped'] = []
    for (const { path } of await this.listFiles(shard)) {
      try {
        const loaded = await this.loadFile(path, shard)
        return { ...loaded, skipped }
      } catch (error) {
        if (!(error instanceof WalError) || error.code !== 'SNAPSHOT_CORRUPT') throw error
        skipped.push({ path, reason: error.message })
      }
    }
    return undefined
  }

  /** Snapshot files of a shard, newest first (not verified). */
  async list(shard: number): Promise<Array<{ index: number; path: string }>> {
    return this.listFiles(shard)
  }

  /** How many CPU tasks ran in the pool and how many inline (small bodies). */
  stats(): { pooledTasks: number; inlineTasks: number } {
    return { pooledTasks: this.pooledTasks, inlineTasks: this.inlineTasks }
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.shardQueues.values()].map((queue) => queue.drained()))
    const pool = this.pool
    this.pool = undefined
    if (pool !== undefined) await pool.destroy()
  }

  private assertOpen(): void {
    if (this.closed) throw new WalError('SNAPSHOT_STORE_CLOSED', 'the snapshot store is closed')
  }

  private checkMeta(meta: SnapshotMeta, rawBytes: number): void {
    this.assertOpen()
    if (!Number.isInteger(meta.shard) || meta.shard < 0 || meta.shard > 0xffff_ffff) {
      throw new WalError('WAL_INVALID_ARGUMENT', `shard id must be a u32, got ${meta.shard}`)
    }
    assertSafeU64(meta.index, 'snapshot index')
    assertSafeU64(meta.term, 'snapshot term')
    if (rawBytes > this.options.snapshotBytesMax) {
      throw new WalError('SNAPSHOT_TOO_LARGE', `snapshot of ${rawBytes} bytes exceeds ${this.options.snapshotBytesMax}`)
    }
  }

  private flags(options: SaveOptions): number {
    return (options.compress ?? this.options.compress) ? SnapshotFlag.compressed : 0
  }

  private serialize<T>(shard: number, work: () => Promise<T>): Promise<T> {
    let queue = this.shardQueues.get(shard)
    if (queue === undefined) this.shardQueues.set(shard, (queue = new SerialQueue()))
    const result = queue.run(work)
    const forget = () => {
      if (queue.idle && this.shardQueues.get(shard) === queue) this.shardQueues.delete(shard)
    }
    void result.then(forget, forget)
    return result
  }

  /** Runs CPU work inline when small (a thread hop costs more), in the pool when large. */
  private async run(task: SnapshotTask, sizeBytes: number): Promise<Buffer> {
    if (sizeBytes < this.options.offloadBytesMin) {
      this.inlineTasks++
      return toBuffer(runSnapshotTask(task))
    }
    this.pooledTasks++
    this.pool ??= new Piscina<SnapshotTask, Uint8Array>({
      filename: new URL('./snapshot-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.options.poolThreadsMax,
      idleTimeout: 10_000,
    })
    try {
      return toBuffer(await this.pool.run(task))
    } catch (error) {
      // Errors lose their class and code crossing the thread boundary.
      if (task.op === 'open') throw new WalError('SNAPSHOT_CORRUPT', errorMessage(error), { cause: error })
      throw error
    }
  }

  private shardDir(shard: number): string {
    return join(this.dir, `shard-${shard}`)
  }

  /** Writes the file whose bytes are `image`'s buffers one after another. */
  private writeImage(meta: SnapshotMeta, image: readonly Uint8Array[]): Promise<SavedSnapshot> {
    return this.writes.run(() => this.writeImageNow(meta, image))
  }

  private async writeImageNow(meta: SnapshotMeta, image: readonly Uint8Array[]): Promise<SavedSnapshot> {
    const dir = this.shardDir(meta.shard)
    await this.prepareShardDir(meta.shard)
    const path = join(dir, snapshotFileName(meta.index))
    const temp = `${path}${TEMP_MARK}${process.pid}-${this.tempCounter++}`
    const fd = await openFile(temp, 'wx')
    let sizeBytes = 0
    try {
      // A large image goes to disk a slice at a time, each made durable
      // before the next: the disk never holds more than a slice of it
      // unwritten, so the WAL's fsyncs, which on ext4 can wait for other
      // files' dirty data, are delayed by a slice at most, not the image.
      for (const slice of slicesOf(image, WRITE_SLICE_BYTES)) {
        await writeAllAt(fd, slice, sizeBytes)
        for (const part of slice) sizeBytes += part.byteLength
        await fsyncFile(fd)
      }
      if (sizeBytes === 0) await fsyncFile(fd)
    } finally {
      await closeFile(fd)
    }
    await rename(temp, path)
    await fsyncDirectory(dir)
    await this.prune(meta.shard)
    return { ...copyMeta(meta), path, sizeBytes }
  }

  /** Creates the shard directory durably and removes temp files a crash left behind. */
  private async prepareShardDir(shard: number): Promise<void> {
    if (this.cleanedShards.has(shard)) return
    const dir = this.shardDir(shard)
    await mkdir(dir, { recursive: true })
    await fsyncDirectory(this.dir)
    for (const name of await readdir(dir)) {
      if (name.includes(TEMP_MARK)) await unlink(join(dir, name))
    }
    this.cleanedShards.add(shard)
  }

  private async prune(shard: number): Promise<void> {
    const files = await this.listFiles(shard)
    for (const { path } of files.slice(this.options.retainCount)) await unlink(path)
  }

  private async listFiles(shard: number): Promise<Array<{ index: number; path: string }>> {
    const dir = this.shardDir(shard)
    let names: string[]
    try {
      names = await readdir(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const files: Array<{ index: number; path: string }> = []
    for (const name of names) {
      const match = SNAPSHOT_FILE.exec(name)
      if (match !== null) files.push({ index: Number(match[1]), path: join(dir, name) })
    }
    return files.sort((a, b) => b.index - a.index)
  }

  private async loadFile(path: string, shard: number): Promise<Omit<LoadedSnapshot, 'skipped'>> {
    // Check the header before reading the body, so a damaged size field cannot make us read a huge file.
    const headerBytes = Buffer.alloc(SNAPSHOT_HEADER_BYTES)
    const fd = await openFile(path, 'r')
    let fileBytes: number
    try {
      fileBytes = (await fstat(fd)).size
      await readFullyAt(fd, headerBytes, SNAPSHOT_HEADER_BYTES, 0)
    } finally {
      await closeFile(fd)
    }
    const header = readSnapshotHeader(headerBytes)
    this.checkHeader(header, shard, path)
    if (fileBytes !== SNAPSHOT_HEADER_BYTES + header.storedBytes) {
      throw new WalError('SNAPSHOT_CORRUPT', `${path} is ${fileBytes} bytes, header says ${SNAPSHOT_HEADER_BYTES + header.storedBytes}`)
    }
    const image = await readFile(path)
    const raw = await this.run({ op: 'open', image }, image.byteLength)
    const loaded: Omit<LoadedSnapshot, 'skipped'> = { shard, index: header.index, term: header.term, path, payload: raw }
    if ((header.flags & SnapshotFlag.msgpackValue) !== 0) {
      try {
        // Decoded here: handing a decoded object back from the pool would cost a structured clone of the same size.
        loaded.value = unpack(raw)
      } catch (error) {
        throw new WalError('SNAPSHOT_CORRUPT', `msgpack body does not decode: ${errorMessage(error)}`, { cause: error })
      }
    }
    return loaded
  }

  private checkHeader(header: SnapshotHeader, shard: number, path: string): void {
    if (header.shard !== shard) throw new WalError('SNAPSHOT_CORRUPT', `${path} belongs to shard ${header.shard}`)
    if (snapshotFileName(header.index) !== path.slice(path.lastIndexOf('/') + 1)) {
      throw new WalError('SNAPSHOT_CORRUPT', `${path} holds index ${header.index}`)
    }
    // Deflate never grows data by more than a small fraction, so twice the bound is generous.
    if (header.rawBytes > this.options.snapshotBytesMax || header.storedBytes > 2 * this.options.snapshotBytesMax) {
      throw new WalError('SNAPSHOT_CORRUPT', `${path} claims ${header.rawBytes} raw bytes, over the bound`)
    }
  }
}

function snapshotFileName(index: number): string {
  return `snap-${String(index).padStart(16, '0')}.snap`
}

function copyMeta(meta: SnapshotMeta): SnapshotMeta {
  return { shard: meta.shard, index: meta.index, term: meta.term }
}

/** `buffers` (read as one run of bytes) in slices of at most `sliceBytes`, each as the views (no copies) that make it up. */
function* slicesOf(buffers: readonly Uint8Array[], sliceBytes: number): Generator<Buffer[]> {
  let slice: Buffer[] = []
  let room = sliceBytes
  for (const buffer of buffers) {
    for (let at = 0; at < buffer.byteLength; ) {
      const take = Math.min(room, buffer.byteLength - at)
      slice.push(Buffer.from(buffer.buffer, buffer.byteOffset + at, take))
      at += take
      room -= take
      if (room === 0) {
        yield slice
        slice = []
        room = sliceBytes
      }
    }
  }
  if (slice.length > 0) yield slice
}

/** Bytes checksummed between two turns of the event loop (a few milliseconds). */
const CRC_SLICE_BYTES = 16 * 1024 * 1024

/** CRC32C of `bytes`, a slice per turn of the event loop, so that a large body does not hold the thread. */
async function crc32cInSlices(bytes: Uint8Array): Promise<number> {
  let crc = 0
  for (let at = 0; at < bytes.byteLength; at += CRC_SLICE_BYTES) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve))
    crc = crc32c(bytes.subarray(at, at + CRC_SLICE_BYTES), crc)
  }
  return crc
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
