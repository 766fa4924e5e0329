// Encodes messages as `u32 big-endian length + msgpack payload` frames.
//
// `encodeAll` puts many frames in one buffer so a batch costs one
// `socket.write`. A message over `maxFrameBytes` is refused here, at the
// sender, with the same limit the receiving decoder enforces.
import type { Packr } from 'msgpackr'
import { FRAME_HEADER_BYTES, FRAME_MAX_LENGTH } from './frame-decoder.js'
import { NetError } from './net-error.js'
import { createWirePackr } from './wire-codec.js'

export interface FrameEncoderOptions {
  maxFrameBytes: number
}

export class FrameEncoder {
  readonly maxFrameBytes: number
  readonly #packr: Packr = createWirePackr()

  constructor(options: FrameEncoderOptions) {
    if (!Number.isSafeInteger(options.maxFrameBytes) || options.maxFrameBytes < 1 || options.maxFrameBytes > FRAME_MAX_LENGTH) {
      throw new NetError('INVALID_CONFIG', `maxFrameBytes must be an integer from 1 to ${FRAME_MAX_LENGTH}, got ${options.maxFrameBytes}`)
    }
    this.maxFrameBytes = options.maxFrameBytes
  }

  /**
   * The msgpack payload of one message (without header). The bytes are valid
   * only until the next call: copy them before encoding again.
   * Throws MESSAGE_UNENCODABLE or FRAME_TOO_LARGE.
   */
  encodePayload(message: unknown): Uint8Array {
    let payload: Uint8Array
    try {
      payload = this.#packr.pack(message)
    } catch (error) {
      throw new NetError('MESSAGE_UNENCODABLE', `cannot encode message as msgpack: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
    if (payload.length > this.maxFrameBytes) {
      throw new NetError('FRAME_TOO_LARGE', `message of ${payload.length} bytes is over the frame limit of ${this.maxFrameBytes} bytes`)
    }
    return payload
  }

  /** One frame in a fresh buffer. */
  encode(message: unknown): Buffer {
    return this.encodeAll([message])
  }

  /** Many frames, in order, in one fresh buffer. */
  encodeAll(messages: readonly unknown[]): Buffer {
    const payloads = messages.map((message) => Buffer.from(this.encodePayload(message)))
    let total = 0
    for (const payload of payloads) total += FRAME_HEADER_BYTES + payload.length
    const out = Buffer.allocUnsafe(total)
    let at = 0
    for (const payload of payloads) {
      at = writeFrame(out, at, payload)
    }
    return out
  }
}

/** Writes header + payload at `at`; returns the offset after the frame. */
export function writeFrame(target: Buffer, at: number, payload: Uint8Array): number {
  target.writeUInt32BE(payload.length, at)
  target.set(payload, at + FRAME_HEADER_BYTES)
  return at + FRAME_HEADER_BYTES + payload.length
}
