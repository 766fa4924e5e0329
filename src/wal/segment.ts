import { closeFile } from './fs-io.js'

/** An open segment: its file, its size, and per shard the highest entry index it holds. */
export class Segment {
  readonly sequence: number
  readonly path: string
  readonly fd: number
  /** End of the records (where the next write goes). */
  sizeBytes: number
  /** End of the zero-filled space reserved ahead of `sizeBytes`. */
  allocatedBytes: number
  /**
   * shard → highest entry index written to this segment. Truncation does not lower it:
   * only a snapshot mark releases a segment, which keeps recovery's rule simple (entries
   * missing before the oldest segment are always covered by a later mark).
   */
  readonly maxIndexByShard = new Map<number, number>()
  private readers = 0
  private retired = false
  private closing: Promise<void> | undefined

  constructor(sequence: number, path: string, fd: number, sizeBytes: number) {
    this.sequence = sequence
    this.path = path
    this.fd = fd
    this.sizeBytes = sizeBytes
    this.allocatedBytes = sizeBytes
  }

  noteEntry(shard: number, index: number): void {
    const max = this.maxIndexByShard.get(shard)
    if (max === undefined || index > max) this.maxIndexByShard.set(shard, index)
  }

  /** Holds the fd open for a read; call the returned function when done. */
  acquire(): () => void {
    this.readers++
    let released = false
    return () => {
      if (released) return
      released = true
      this.readers--
      if (this.retired && this.readers === 0) void this.closeFd()
    }
  }

  /** Closes the fd once no read uses it (the file itself is unlinked by the caller). */
  retire(): Promise<void> {
    this.retired = true
    return this.readers === 0 ? this.closeFd() : Promise.resolve()
  }

  private closeFd(): Promise<void> {
    this.closing ??= closeFile(this.fd).catch(() => undefined)
    return this.closing
  }
}
