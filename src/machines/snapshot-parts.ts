// A snapshot as the byte pieces it is made of, in order. Small values are
// packed (and copied) at once; large binaries that never change once stored
// (message bodies, KV values) are held by reference. Capturing the parts is
// one pass over the state; joining them into one buffer, the costly copy of
// every body, can then run in slices between other work (assembleParts), so
// that a replica with a large state does not stop answering while it takes
// a snapshot.
import { Packr } from 'msgpackr'
import { setImmediate as nextTurn } from 'node:timers/promises'

const packr = new Packr({ useRecords: false })

/** A part whose bytes are produced when the snapshot is joined (from data copied when it was captured). */
type LaterPart = () => Uint8Array

export class SnapshotParts {
  readonly parts: (Uint8Array | LaterPart)[] = []
  /** Bytes of the parts known so far (the later parts count once produced). */
  byteLength = 0

  push(bytes: Uint8Array): void {
    this.parts.push(bytes)
    this.byteLength += bytes.byteLength
  }

  /** A value packed on its own: the same bytes as inside a larger structure. */
  value(value: unknown): void {
    this.push(packValue(value))
  }

  /** A value packed when the snapshot is joined; `value()` must return data that no longer changes. */
  later(value: () => unknown): void {
    this.parts.push(() => packValue(value()))
  }

  /** Raw bytes produced when the snapshot is joined; `produce()` must return bytes that no longer change. */
  laterBytes(produce: () => Uint8Array): void {
    this.parts.push(produce)
  }

  arrayHeader(length: number): void {
    this.push(arrayHeader(length))
  }

  /** The header of a binary of `length` bytes; the bytes follow as parts of their own. */
  binHeader(length: number): void {
    this.push(binHeader(length))
  }

  /** A place for bytes known only later (a header whose length comes after what follows it). */
  placeholder(): number {
    return this.parts.push(EMPTY) - 1
  }

  fill(at: number, bytes: Uint8Array): void {
    this.parts[at] = bytes
    this.byteLength += bytes.byteLength
  }

  /** Produces the later parts; after it every part is bytes. */
  resolveNow(): Uint8Array[] {
    for (let at = 0; at < this.parts.length; at++) {
      const part = this.parts[at]!
      if (typeof part === 'function') this.fill(at, part())
    }
    return this.parts as Uint8Array[]
  }

  /** As resolveNow(), yielding to the event loop after each later part. */
  async resolveInTurns(): Promise<Uint8Array[]> {
    for (let at = 0; at < this.parts.length; at++) {
      const part = this.parts[at]!
      if (typeof part !== 'function') continue
      this.fill(at, part())
      await nextTurn()
    }
    return this.parts as Uint8Array[]
  }
}

const EMPTY = new Uint8Array(0)

export function arrayHeader(length: number): Uint8Array {
  if (length < 16) return Uint8Array.of(0x90 | length)
  if (length < 0x10000) return Uint8Array.of(0xdc, length >> 8, length & 0xff)
  return uint32Header(0xdd, length)
}

export function binHeader(length: number): Uint8Array {
  if (length < 0x100) return Uint8Array.of(0xc4, length)
  if (length < 0x10000) return Uint8Array.of(0xc5, length >> 8, length & 0xff)
  return uint32Header(0xc6, length)
}

function packValue(value: unknown): Uint8Array {
  // Copied: msgpackr's result may share its working buffer.
  return new Uint8Array(packr.pack(value))
}

function uint32Header(type: number, length: number): Uint8Array {
  const header = new Uint8Array(5)
  header[0] = type
  new DataView(header.buffer).setUint32(1, length)
  return header
}

/** Joins the parts of one or more snapshots, in order, at once. */
export function concatParts(...snapshots: SnapshotParts[]): Uint8Array {
  const lists = snapshots.map((snapshot) => snapshot.resolveNow())
  const out = Buffer.allocUnsafe(snapshots.reduce((sum, snapshot) => sum + snapshot.byteLength, 0))
  let offset = 0
  for (const parts of lists) {
    for (const part of parts) {
      out.set(part, offset)
      offset += part.byteLength
    }
  }
  return out
}

/**
 * Joins the parts of one or more snapshots, in order, yielding to the event
 * loop after each later part and after every `sliceBytes` copied, so that
 * timers and messages are served meanwhile.
 */
export async function assembleParts(snapshots: SnapshotParts[], sliceBytes = 4 * 1024 * 1024): Promise<Uint8Array> {
  const lists: Uint8Array[][] = []
  for (const snapshot of snapshots) lists.push(await snapshot.resolveInTurns())
  const out = Buffer.allocUnsafe(snapshots.reduce((sum, snapshot) => sum + snapshot.byteLength, 0))
  let offset = 0
  let sinceYield = 0
  for (const parts of lists) {
    for (const part of parts) {
      out.set(part, offset)
      offset += part.byteLength
      sinceYield += part.byteLength
      if (sinceYield >= sliceBytes) {
        sinceYield = 0
        await nextTurn()
      }
    }
  }
  return out
}
