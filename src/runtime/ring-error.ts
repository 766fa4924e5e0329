// Errors of the cross-thread transport (ring, doorbell, codec). Callers branch
// on `code`; people read `message`.

export type RingErrorCode =
  /** Ring capacity is not a power of two within the supported range. */
  | 'RING_INVALID_CAPACITY'
  /** A buffer handed to `attach` was not made by `create` (or is a different version). */
  | 'RING_INVALID_BUFFER'
  /** A payload larger than `maxFrameBytes`: it can never fit, so it is refused rather than waited for. */
  | 'RING_FRAME_TOO_LARGE'
  /** tryWrite's [start, end) does not lie within the payload array. */
  | 'RING_INVALID_RANGE'
  /** A frame header in shared memory is impossible: the ring was written by more than one producer or overwritten. */
  | 'RING_CORRUPT'
  /** `drain` was called from inside its own callback. */
  | 'RING_REENTRANT_DRAIN'
  /** One instance used as both producer and consumer. */
  | 'RING_WRONG_SIDE'
  /** Doorbell.sleep called while a sleep of the same instance is pending. */
  | 'DOORBELL_ALREADY_SLEEPING'
  /** A wait ended because its AbortSignal fired. */
  | 'RING_WAIT_ABORTED'
  /** A wait ended because its timeout elapsed. */
  | 'RING_WAIT_TIMEOUT'
  /** The codec's structures table is malformed or too large. */
  | 'CODEC_INVALID_TABLE'
  /** Bytes that do not decode as one msgpack value. */
  | 'CODEC_DECODE_FAILED'

export class RingError extends Error {
  readonly code: RingErrorCode

  constructor(code: RingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RingError'
    this.code = code
  }
}

export function isRingError(error: unknown, code?: RingErrorCode): error is RingError {
  return error instanceof RingError && (code === undefined || error.code === code)
}
