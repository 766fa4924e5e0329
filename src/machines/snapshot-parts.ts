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

  arrayHeader(length: number): void {
    if (length < 16) this.push(Uint8Array.of(0x90 | length))
    else if (length < 0x10000) this.push(Uint8Array.of(0xdc, length >> 8, length & 0xff))
    else this.push(uint32Header(0xdd, length))
  }

  /** The header of a binary of `length` bytes; the bytes follow as parts of their own. */
  binHeader(length: number): void {
    if (length < 0x100) this.push(Uint8Array.of(0xc4, length))
    else if (length < 0x10000) this.push(Uint8Array.of(0xc5, length >> 8, length & 0xff))
    else this.push(uint32Header(0xc6, length))
  }

  append(other: SnapshotParts): void {
    for (const part of other.parts) this.parts.push(part)
    this.byteLength += other.byteLength
  }

  /** Produces the later parts; after it every part is bytes. */
  resolveNow(): Uint8Array[] {
    for (let at = 0; at < this.parts.length; at++) {
      const part = this.parts[at]!
      if (typeof part === 'function') this.settle(at, part())
    }
    return this.parts as Uint8Array[]
  }

  /** As resolveNow(), yielding to the event loop after each later part. */
  async resolveInTurns(): Promise<Uint8Array[]> {
    for (let at = 0; at < this.parts.length; at++) {
      const part = this.parts[at]!
      if (typeof part !== 'function') continue
      this.settle(at, part())
      await nextTurn()
    }
    return this.parts as Uint8Array[]
  }

  private settle(at: number, bytes: Uint8Array): void {
    this.parts[at] = bytes
    this.byteLength += bytes.byteLength
  }
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

/** Joins the parts at once. */
export function concatParts(snapshot: SnapshotParts): Uint8Array {
  const parts = snapshot.resolveNow()
  const out = Buffer.allocUnsafe(snapshot.byteLength)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/**
 * Joins the parts, yielding to the event loop after each later part and
 * after every `sliceBytes` copied, so that timers and messages are served
 * meanwhile.
 */
export async function assembleParts(snapshot: SnapshotParts, sliceBytes = 4 * 1024 * 1024): Promise<Uint8Array> {
  const parts = await snapshot.resolveInTurns()
  const out = Buffer.allocUnsafe(snapshot.byteLength)
  let offset = 0
  let sinceYield = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
    sinceYield += part.byteLength
    if (sinceYield >= sliceBytes) {
      sinceYield = 0
      await nextTurn()
    }
  }
  return out
}
