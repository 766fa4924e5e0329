// The msgpack codec of cross-thread frames (msgpackr), with a structures table
// fixed at start-up.
//
//   const codec = createCodec({ structures: [['to', 'from', 'type', 'payload']] })
//   const bytes = codec.encode({ to: 1, from: 2, type: 'send', payload })  // owned by the caller
//   codec.decode(bytes)                                                     // → a fresh value
//
//   // Hot path into a ring, no allocation: the range is valid until the next encode.
//   const range = codec.encodeTransient(envelope)
//   ring.tryWrite(range.bytes, range.start, range.end)
//   ring.drainRanges((bytes, start, end) => handle(codec.decode(bytes, start, end)))
//
// - Objects whose keys, in order, equal a table entry are encoded as a record
//   referencing the entry (one byte of header instead of the key names). Every
//   thread must build its codec from the same table in the same order; compare
//   `tableFingerprint` at start-up to check.
// - Objects of any other shape are encoded self-describing: msgpackr writes
//   their record definition inline in each encoded value (it does not remember
//   them across encode calls), so any codec with the same table, including one
//   in a freshly restarted thread, decodes every value. Nothing is ever added to
//   the shared table at run time (incremental shared structures would break on
//   restart).
// - A decoded Uint8Array never aliases the bytes it was decoded from, so
//   decoding straight from a ring frame, whose memory the producer reuses, is
//   safe. A value of fewer than OWN_BUFFER_MIN_BYTES is decoded with its binary
//   payloads copied one by one (`copyBuffers`), from a private scratch copy when
//   the bytes are in a SharedArrayBuffer, because msgpackr's native string
//   extractor refuses shared memory (see decode). A larger value is first
//   copied whole into a buffer of its own, and its binary payloads are views
//   of that buffer: one allocation per value instead of one per payload (a
//   batch of 100 message bodies decoded in a quarter of the time). Such a view
//   keeps the value's whole buffer alive, at most the frame's size.
// - Round-trips: null, undefined, booleans, numbers (integers beyond 2^32 and up
//   to 2^53, floats), strings, Uint8Array/Buffer (decoded as Uint8Array),
//   arrays, nested plain objects. Maps decode as plain objects; bigints and
//   class instances are out of scope.
import { Packr, RESET_BUFFER_MODE, REUSE_BUFFER_MODE, Unpackr, type Options } from 'msgpackr'
import { RingError } from './ring-error.js'

/** msgpackr accepts up to 8160 shared structures; tables of at most 32 keep record headers to one byte. */
export const CODEC_MAX_TABLE_ENTRIES = 1024
export const CODEC_MAX_KEYS_PER_ENTRY = 256

/** Values of at least this many bytes are decoded from a copy of their own, their binaries as views of it. */
export const OWN_BUFFER_MIN_BYTES = 1024
// Scratch space for decoding small values out of shared memory.
const DECODE_SCRATCH_BYTES = OWN_BUFFER_MIN_BYTES

export interface CodecOptions {
  /** Key lists of the record shapes agreed at start-up, e.g. the runtime's envelope. Default: none. */
  structures?: readonly (readonly string[])[]
}

/** Encoded bytes at `bytes[start, end)`; see Codec.encodeTransient for how long they stay valid. */
export interface EncodedRange {
  bytes: Uint8Array
  start: number
  end: number
}

export interface Codec {
  /** Encodes one value. The bytes stay valid after later encode calls. */
  encode(value: unknown): Uint8Array
  /**
   * Encodes one value into the codec's reusable buffer, returning the codec's one
   * reusable range object: valid only until the next encode or encodeTransient
   * call on this codec. Spares an allocation per value: for copying straight
   * into a ring.
   */
  encodeTransient(value: unknown): Readonly<EncodedRange>
  /**
   * Decodes exactly one value from `bytes` (or its `[start, end)` range, which
   * spares the caller a subarray). Throws CODEC_DECODE_FAILED on malformed or
   * trailing bytes.
   */
  decode(bytes: Uint8Array, start?: number, end?: number): unknown
  /**
   * Decodes one value from bytes the caller hands over (not shared memory,
   * never written again): its binaries are views of them, with no copy.
   */
  decodeOwned(bytes: Uint8Array): unknown
  /** A short hash of the table; two codecs interoperate only if theirs are equal. */
  readonly tableFingerprint: string
}

export function createCodec(options: CodecOptions = {}): Codec {
  const table = validateTable(options.structures ?? [])
  // Both instances must share no array with each other or the caller: msgpackr
  // keeps per-call records in the same array as the shared table.
  const copy = (): string[][] => table.map((keys) => keys.slice())
  const common: Options = {
    useRecords: true,
    maxSharedStructures: table.length,
    // Keep one-byte record ids for small tables: shared + own must stay within 64.
    maxOwnStructures: table.length <= 32 ? 64 - table.length : 64,
    copyBuffers: true,
  }
  const packr = new Packr({ ...common, structures: copy() })
  const unpackr = new Unpackr({ ...common, structures: copy() })
  // For values copied into a buffer of their own: binaries may be views of it.
  const viewUnpackr = new Unpackr({ ...common, structures: copy(), copyBuffers: false })
  const tableFingerprint = fingerprint(table)
  const transient: EncodedRange = { bytes: new Uint8Array(0), start: 0, end: 0 }
  const decodeScratch = new Uint8Array(DECODE_SCRATCH_BYTES)
  const transientPacker = new Packr({ ...common, structures: copy() })
  const decodeOwned = (bytes: Uint8Array): unknown => {
    if (bytes.length === 0) throw new RingError('CODEC_DECODE_FAILED', 'cannot decode an empty byte range')
    try {
      return viewUnpackr.unpack(bytes) as unknown
    } catch (error) {
      throw decodeFailed(error)
    }
  }
  return {
    tableFingerprint,
    encode(value: unknown): Uint8Array {
      return packr.pack(value)
    },
    encodeTransient(value: unknown): Readonly<EncodedRange> {
      // REUSE returns the packer's own buffer with start/end set instead of a new
      // subarray; RESET rewinds so the next call writes over the same bytes.
      const target = transientPacker.pack(value, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as Buffer & { start: number; end: number }
      transient.bytes = target
      transient.start = target.start
      transient.end = target.end
      return transient
    },
    decode(bytes: Uint8Array, start = 0, end = bytes.length): unknown {
      if (end <= start) throw new RingError('CODEC_DECODE_FAILED', 'cannot decode an empty byte range')
      const length = end - start
      try {
        if (length >= OWN_BUFFER_MIN_BYTES) {
          const own = new Uint8Array(length)
          own.set(bytes.subarray(start, end))
          return decodeOwned(own)
        }
        if (bytes.buffer instanceof SharedArrayBuffer) {
          // msgpackr's native string extractor rejects SharedArrayBuffers by
          // throwing, which msgpackr catches before reading the strings in JS: an
          // exception per decode (about 15 µs on the 2-core dev VM) whenever a value
          // with strings ends 140 or more bytes into the view (below that msgpackr
          // skips the extractor). A private copy costs ~0.1 µs per 100 bytes.
          decodeScratch.set(bytes.subarray(start, end))
          return unpackr.unpack(decodeScratch, { start: 0, end: length }) as unknown
        }
        return unpackr.unpack(bytes, { start, end }) as unknown
      } catch (error) {
        if (error instanceof RingError) throw error
        throw decodeFailed(error)
      }
    },
    decodeOwned,
  }
}

function validateTable(structures: readonly (readonly string[])[]): string[][] {
  if (!Array.isArray(structures) || structures.length > CODEC_MAX_TABLE_ENTRIES) {
    throw new RingError('CODEC_INVALID_TABLE', `structures must be an array of at most ${CODEC_MAX_TABLE_ENTRIES} key lists`)
  }
  const seen = new Set<string>()
  return structures.map((keys, index) => {
    if (!Array.isArray(keys) || keys.length === 0 || keys.length > CODEC_MAX_KEYS_PER_ENTRY) {
      throw new RingError('CODEC_INVALID_TABLE', `structures[${index}] must list 1 to ${CODEC_MAX_KEYS_PER_ENTRY} keys`)
    }
    if (keys.some((key) => typeof key !== 'string') || new Set(keys).size !== keys.length) {
      throw new RingError('CODEC_INVALID_TABLE', `structures[${index}] must list distinct string keys`)
    }
    const signature = JSON.stringify(keys)
    if (seen.has(signature)) throw new RingError('CODEC_INVALID_TABLE', `structures[${index}] repeats an earlier entry`)
    seen.add(signature)
    return keys.slice()
  })
}

/** FNV-1a (32 bit) of the table's JSON: cheap, stable across threads and restarts. */
function fingerprint(table: string[][]): string {
  const text = JSON.stringify(table)
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, '0')
}

function decodeFailed(error: unknown): RingError {
  return new RingError('CODEC_DECODE_FAILED', `msgpack decode failed: ${(error as Error).message}`, { cause: error })
}
