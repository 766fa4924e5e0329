// Incremental decoder of `u32 big-endian length + msgpack payload` frames.
//
// Bytes arrive in chunks cut anywhere; `push` keeps them as a list (never
// concatenating the whole backlog, so buffering stays linear), and `next`
// pulls one complete frame at a time. Pulling lets the caller change
// `maxFrameBytes` between two frames of the same chunk: a connection reads its
// handshake with a tiny limit and what follows with the full one.
//
// The length prefix is checked against `maxFrameBytes` as soon as its four
// bytes are there, before any of the payload is waited for, so a peer cannot
// make us hold a huge frame. A zero-length frame carries no value: it is the
// keep-alive heartbeat, counted and skipped. Any error is final: the decoder
// drops what it holds and rethrows the same error on every later call; the
// caller closes the connection.
//
// A frame of OWN_FRAME_MIN_BYTES or more is copied whole into a buffer of
// its own and decoded there, its binaries as views of that buffer: one
// allocation per frame instead of one per binary (a batch of 100 message
// bodies). Smaller frames are decoded in place with each binary copied. Either
// way no decoded value pins a socket chunk.
import type { Unpackr } from 'msgpackr'
import { NetError } from './net-error.js'
import { createWireUnpackr, OWN_FRAME_MIN_BYTES } from './wire-codec.js'

export const FRAME_HEADER_BYTES = 4
/** The largest length a u32 prefix can state. */
export const FRAME_MAX_LENGTH = 0xffff_ffff

/** Returned by `next()` when no complete frame is buffered. */
export const NO_FRAME: unique symbol = Symbol('NO_FRAME')

const EMPTY = Buffer.alloc(0)

export interface FrameDecoderOptions {
  /** Frames whose length prefix exceeds this are refused with FRAME_TOO_LARGE. */
  maxFrameBytes: number
}

export class FrameDecoder {
  #maxFrameBytes: number
  readonly #unpackr: Unpackr = createWireUnpackr()
  readonly #viewUnpackr: Unpackr = createWireUnpackr({ copy: false })
  /** Received chunks; those before #head are consumed (an index, not shift(), keeps this linear). */
  readonly #chunks: Buffer[] = []
  #head = 0
  /** Read position inside #chunks[#head]. */
  #offset = 0
  #bufferedBytes = 0
  /** Payload length of the frame whose header was read; -1 while waiting for a header. */
  #payloadBytes = -1
  #failure: NetError | undefined
  #framesDecoded = 0
  #heartbeats = 0

  constructor(options: FrameDecoderOptions) {
    this.#maxFrameBytes = checkMaxFrameBytes(options.maxFrameBytes)
  }

  get maxFrameBytes(): number {
    return this.#maxFrameBytes
  }

  /** Applies from the next frame header on (a header already read keeps the limit it passed). */
  set maxFrameBytes(value: number) {
    this.#maxFrameBytes = checkMaxFrameBytes(value)
  }

  /** Bytes received and not yet consumed by a decoded frame. */
  get bufferedBytes(): number {
    return this.#bufferedBytes
  }

  get framesDecoded(): number {
    return this.#framesDecoded
  }

  get heartbeatsReceived(): number {
    return this.#heartbeats
  }

  get failed(): boolean {
    return this.#failure !== undefined
  }

  push(chunk: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure
    if (chunk.length === 0) return
    this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
    this.#bufferedBytes += chunk.length
  }

  /** The next decoded message, or NO_FRAME when more bytes are needed. Throws NetError. */
  next(): unknown {
    if (this.#failure !== undefined) throw this.#failure
    for (;;) {
      if (this.#payloadBytes < 0) {
        if (this.#bufferedBytes < FRAME_HEADER_BYTES) return NO_FRAME
        const length = this.#readHeader()
        if (length > this.#maxFrameBytes) {
          return this.#fail(new NetError('FRAME_TOO_LARGE', `frame of ${length} bytes is over the limit of ${this.#maxFrameBytes} bytes`))
        }
        if (length === 0) {
          this.#heartbeats++
          continue
        }
        this.#payloadBytes = length
      }
      const length = this.#payloadBytes
      if (this.#bufferedBytes < length) return NO_FRAME
      this.#payloadBytes = -1
      let message: unknown
      try {
        const chunk = this.#chunks[this.#head]!
        const inChunk = chunk.length - this.#offset
        if (length >= OWN_FRAME_MIN_BYTES) {
          message = this.#viewUnpackr.unpack(this.#copy(length))
        } else if (inChunk >= length) {
          // The common case: decode in place, no copy and no view object.
          const start = this.#offset
          this.#advance(length, inChunk)
          message = this.#unpackr.unpack(chunk, { start, end: start + length })
        } else {
          message = this.#unpackr.unpack(this.#take(length))
        }
      } catch (error) {
        return this.#fail(new NetError('FRAME_MALFORMED', `frame of ${length} bytes is not one msgpack value: ${describe(error)}`, { cause: error }))
      }
      this.#framesDecoded++
      return message
    }
  }

  /** Decodes every complete frame buffered, at most `maxMessages`. Throws NetError. */
  drain(maxMessages = Number.MAX_SAFE_INTEGER): unknown[] {
    const messages: unknown[] = []
    while (messages.length < maxMessages) {
      const message = this.next()
      if (message === NO_FRAME) break
      messages.push(message)
    }
    return messages
  }

  /** Reads and removes a 4-byte big-endian length (#bufferedBytes >= 4). */
  #readHeader(): number {
    const chunk = this.#chunks[this.#head]!
    const inChunk = chunk.length - this.#offset
    if (inChunk < FRAME_HEADER_BYTES) return this.#take(FRAME_HEADER_BYTES).readUInt32BE(0)
    const length = chunk.readUInt32BE(this.#offset)
    this.#advance(FRAME_HEADER_BYTES, inChunk)
    return length
  }

  /** Removes `length` bytes from the front (length <= #bufferedBytes); copies only when they span chunks. */
  #take(length: number): Buffer {
    const first = this.#chunks[this.#head]!
    const available = first.length - this.#offset
    if (available >= length) {
      const view = first.subarray(this.#offset, this.#offset + length)
      this.#advance(length, available)
      return view
    }
    return this.#moveInto(Buffer.allocUnsafe(length))
  }

  /** Removes `length` bytes from the front (length <= #bufferedBytes) into a new buffer of their own. */
  #copy(length: number): Uint8Array {
    return this.#moveInto(new Uint8Array(length))
  }

  /** Fills `out` with the bytes at the front, removing them. */
  #moveInto<T extends Uint8Array>(out: T): T {
    let filled = 0
    while (filled < out.length) {
      const chunk = this.#chunks[this.#head]!
      const inChunk = chunk.length - this.#offset
      const n = Math.min(inChunk, out.length - filled)
      out.set(chunk.subarray(this.#offset, this.#offset + n), filled)
      filled += n
      this.#advance(n, inChunk)
    }
    return out
  }

  #advance(n: number, inChunk: number): void {
    this.#bufferedBytes -= n
    if (n < inChunk) {
      this.#offset += n
      return
    }
    this.#chunks[this.#head] = EMPTY
    this.#head++
    this.#offset = 0
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks.splice(0, this.#head)
      this.#head = 0
    }
  }

  #fail(error: NetError): never {
    this.#failure = error
    this.#chunks.length = 0
    this.#head = 0
    this.#offset = 0
    this.#bufferedBytes = 0
    throw error
  }
}

function checkMaxFrameBytes(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > FRAME_MAX_LENGTH) {
    throw new NetError('INVALID_CONFIG', `maxFrameBytes must be an integer from 1 to ${FRAME_MAX_LENGTH}, got ${value}`)
  }
  return value
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
