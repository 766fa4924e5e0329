// The bounded outbound buffer of one connection.
//
// Messages are encoded when they are queued, straight into slabs of
// `slabBytes`, so the bound is exact in bytes and an unencodable message fails
// at its sender. `take()` hands back everything queued since the last take as
// a few large buffers (usually one) for one write each. A slab's taken part
// is never written again (later frames go after it), so a buffer handed to the
// socket stays intact while the socket still holds it.
import { FRAME_HEADER_BYTES } from './frame-decoder.js'
import { writeFrame, type FrameEncoder } from './frame-encoder.js'

export interface OutboundQueueOptions {
  /** Bytes queued here plus `heldElsewhereBytes` may not exceed this. */
  maxQueuedBytes: number
  /** Size of a fresh slab (a frame larger than this gets a slab of its own). */
  slabBytes: number
}

export class OutboundQueue {
  readonly #encoder: FrameEncoder
  readonly #options: OutboundQueueOptions
  /** Filled slabs not yet taken, each trimmed to its untaken part. */
  readonly #sealed: Buffer[] = []
  #sealedBytes = 0
  #slab: Buffer | undefined
  /** The untaken part of #slab is [#slabStart, #slabUsed). */
  #slabStart = 0
  #slabUsed = 0

  constructor(encoder: FrameEncoder, options: OutboundQueueOptions) {
    this.#encoder = encoder
    this.#options = options
  }

  get queuedBytes(): number {
    return this.#sealedBytes + (this.#slabUsed - this.#slabStart)
  }

  /**
   * Queues one frame. Returns false, queuing nothing, when the frame would take
   * queuedBytes + heldElsewhereBytes over maxQueuedBytes. Throws
   * MESSAGE_UNENCODABLE or FRAME_TOO_LARGE (from the encoder).
   */
  append(message: unknown, heldElsewhereBytes: number): boolean {
    const payload = this.#encoder.encodePayload(message)
    return this.#appendPayload(payload, heldElsewhereBytes)
  }

  /** Queues a zero-length heartbeat frame (subject to the same bound). */
  appendHeartbeat(heldElsewhereBytes: number): boolean {
    return this.#appendPayload(EMPTY, heldElsewhereBytes)
  }

  /** Removes and returns everything queued, oldest first. */
  take(): Buffer[] {
    const out = this.#sealed.splice(0, this.#sealed.length)
    this.#sealedBytes = 0
    if (this.#slab !== undefined && this.#slabUsed > this.#slabStart) {
      out.push(this.#slab.subarray(this.#slabStart, this.#slabUsed))
      this.#slabStart = this.#slabUsed
    }
    return out
  }

  /** Drops everything queued (the connection is gone). */
  clear(): void {
    this.#sealed.length = 0
    this.#sealedBytes = 0
    this.#slab = undefined
    this.#slabStart = 0
    this.#slabUsed = 0
  }

  #appendPayload(payload: Uint8Array, heldElsewhereBytes: number): boolean {
    const frameBytes = FRAME_HEADER_BYTES + payload.length
    if (this.queuedBytes + heldElsewhereBytes + frameBytes > this.#options.maxQueuedBytes) return false
    if (this.#slab === undefined || this.#slab.length - this.#slabUsed < frameBytes) this.#newSlab(frameBytes)
    this.#slabUsed = writeFrame(this.#slab!, this.#slabUsed, payload)
    return true
  }

  #newSlab(frameBytes: number): void {
    if (this.#slab !== undefined && this.#slabUsed > this.#slabStart) {
      const rest = this.#slab.subarray(this.#slabStart, this.#slabUsed)
      this.#sealed.push(rest)
      this.#sealedBytes += rest.length
    }
    this.#slab = Buffer.allocUnsafe(Math.max(this.#options.slabBytes, frameBytes))
    this.#slabStart = 0
    this.#slabUsed = 0
  }
}

const EMPTY = new Uint8Array(0)
