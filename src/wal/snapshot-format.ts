// A snapshot file: a 64-byte header, then the body (raw or deflate-raw compressed).
//
//   0  8  magic "TRSNAP01"      24 u64 last included index   56 u32 CRC32C of the stored body
//   8  u32 format version (1)    32 u64 last included term    60 u32 CRC32C of bytes [0, 60)
//  12  u32 flags                 40 u64 stored body bytes
//  16  u32 shard                 48 u64 raw (uncompressed) body bytes
//  20  u32 reserved (0)
//
// Flags: bit 0 the body is deflate-raw compressed; bit 1 the raw body is a msgpack value.
// These functions are pure so that the pool worker and the calling thread share them.
import { crc32c } from '@node-rs/crc32'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { WalError } from './errors.js'
import { readSafeU64, writeSafeU64 } from './safe-u64.js'

export const SNAPSHOT_HEADER_BYTES = 64
const MAGIC = Buffer.from('TRSNAP01', 'latin1')
const FORMAT_VERSION = 1
export const SnapshotFlag = { compressed: 1, msgpackValue: 2 } as const

export interface SnapshotMeta {
  shard: number
  /** Last log index the snapshot includes. */
  index: number
  /** Term of that index. */
  term: number
}

export interface SnapshotHeader extends SnapshotMeta {
  flags: number
  storedBytes: number
  rawBytes: number
  bodyCrc: number
}

function corrupt(message: string): WalError {
  return new WalError('SNAPSHOT_CORRUPT', message)
}

/** Builds the whole file image: header plus (optionally compressed) body. */
export function sealSnapshot(meta: SnapshotMeta, raw: Uint8Array, flags: number, compressionLevel: number): Buffer {
  const compressed = (flags & SnapshotFlag.compressed) !== 0
  const body = compressed ? deflateRawSync(raw, { level: compressionLevel }) : raw
  // One allocation that owns its memory, so a worker can transfer it instead of copying.
  const image = Buffer.from(new ArrayBuffer(SNAPSHOT_HEADER_BYTES + body.byteLength))
  image.set(body, SNAPSHOT_HEADER_BYTES)
  writeSnapshotHeader(image, meta, flags, body.byteLength, raw.byteLength, crc32c(image.subarray(SNAPSHOT_HEADER_BYTES)))
  return image
}

/** Writes the 64-byte header into `target` (its first 64 bytes), for a stored body of that size and CRC32C. */
export function writeSnapshotHeader(target: Buffer, meta: SnapshotMeta, flags: number, storedBytes: number, rawBytes: number, bodyCrc: number): void {
  MAGIC.copy(target, 0)
  target.writeUInt32LE(FORMAT_VERSION, 8)
  target.writeUInt32LE(flags, 12)
  target.writeUInt32LE(meta.shard, 16)
  target.writeUInt32LE(0, 20)
  writeSafeU64(target, meta.index, 24)
  writeSafeU64(target, meta.term, 32)
  writeSafeU64(target, storedBytes, 40)
  writeSafeU64(target, rawBytes, 48)
  target.writeUInt32LE(bodyCrc, 56)
  target.writeUInt32LE(crc32c(target.subarray(0, 60)), 60)
}

export function readSnapshotHeader(buf: Buffer): SnapshotHeader {
  if (buf.byteLength < SNAPSHOT_HEADER_BYTES) throw corrupt('file shorter than the header')
  if (!buf.subarray(0, 8).equals(MAGIC)) throw corrupt('bad magic')
  if (buf.readUInt32LE(60) !== crc32c(buf.subarray(0, 60))) throw corrupt('header CRC mismatch')
  if (buf.readUInt32LE(8) !== FORMAT_VERSION) throw corrupt(`unknown format version ${buf.readUInt32LE(8)}`)
  const index = readSafeU64(buf, 24)
  const term = readSafeU64(buf, 32)
  const storedBytes = readSafeU64(buf, 40)
  const rawBytes = readSafeU64(buf, 48)
  if (index < 0 || term < 0 || storedBytes < 0 || rawBytes < 0) throw corrupt('header field over 2^53-1')
  return {
    shard: buf.readUInt32LE(16),
    index,
    term,
    flags: buf.readUInt32LE(12),
    storedBytes,
    rawBytes,
    bodyCrc: buf.readUInt32LE(56),
  }
}

/** Verifies the body of a whole file image and returns the raw (decompressed) body. */
export function openSnapshotBody(image: Buffer, header: SnapshotHeader): Buffer {
  const body = image.subarray(SNAPSHOT_HEADER_BYTES)
  if (body.byteLength !== header.storedBytes) {
    throw corrupt(`body is ${body.byteLength} bytes, header says ${header.storedBytes}`)
  }
  if (crc32c(body) !== header.bodyCrc) throw corrupt('body CRC mismatch')
  if ((header.flags & SnapshotFlag.compressed) === 0) {
    if (header.rawBytes !== header.storedBytes) throw corrupt('raw and stored sizes differ on an uncompressed body')
    return body
  }
  let raw: Buffer
  try {
    // The header's size bounds the output, so a damaged body cannot inflate without limit.
    raw = inflateRawSync(body, { maxOutputLength: Math.max(1, header.rawBytes) })
  } catch (error) {
    throw new WalError('SNAPSHOT_CORRUPT', `cannot decompress: ${String(error)}`, { cause: error })
  }
  if (raw.byteLength !== header.rawBytes) throw corrupt(`decompressed to ${raw.byteLength} bytes, header says ${header.rawBytes}`)
  return raw
}
