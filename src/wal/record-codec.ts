// The on-disk record (little-endian):
//
//   0  u32  payload length
//   4  u32  CRC32C of bytes [0,4) followed by [8, end)   (length included: a damaged
//           length cannot pass as a valid shorter or longer record)
//   8  u32  shard id
//  12  u8   type: 1 hard state, 2 truncate, 3 snapshot mark, 0x80|kind an entry
//  13  u64  term
//  21  u64  index
//  29  ...  payload
//
// Hard state: term = term, index = commit, payload = u64 vote.
// Truncate: index = first index removed. Snapshot mark: index and term of the mark.
// An entry whose index is at or below the shard's last index replaces the suffix from
// there (how a truncation that comes with new entries is written).
import { crc32c } from '@node-rs/crc32'
import { WalError } from './errors.js'
import { readSafeU64, writeSafeU64 } from './safe-u64.js'
import type { HardState, LogEntry, SnapshotMark } from './types.js'

export const RECORD_HEADER_BYTES = 29
export const HARD_STATE_PAYLOAD_BYTES = 8
export const ENTRY_KIND_MAX = 0x7f

export const RecordType = {
  hardState: 1,
  truncate: 2,
  snapshotMark: 3,
  entryFlag: 0x80,
} as const

export type WalRecord =
  | { type: 'entry'; shard: number; entry: LogEntry }
  | { type: 'hardState'; shard: number; hardState: HardState }
  | { type: 'truncate'; shard: number; fromIndex: number }
  | { type: 'snapshotMark'; shard: number; mark: SnapshotMark }

export type DecodeResult =
  | { status: 'ok'; record: WalRecord; sizeBytes: number }
  /** The bytes end before the record does: a write cut short by a crash. */
  | { status: 'torn' }
  | { status: 'corrupt'; reason: string }

export function entryRecordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes
}

function writeHeader(
  buf: Buffer,
  offset: number,
  payloadBytes: number,
  shard: number,
  type: number,
  term: number,
  index: number,
): void {
  buf.writeUInt32LE(payloadBytes, offset)
  buf.writeUInt32LE(shard, offset + 8)
  buf.writeUInt8(type, offset + 12)
  writeSafeU64(buf, term, offset + 13)
  writeSafeU64(buf, index, offset + 21)
}

function sealCrc(buf: Buffer, offset: number, sizeBytes: number): void {
  buf.writeUInt32LE(recordCrc(buf, offset, sizeBytes), offset + 4)
}

function recordCrc(buf: Buffer, offset: number, sizeBytes: number): number {
  const lengthCrc = crc32c(buf.subarray(offset, offset + 4))
  return crc32c(buf.subarray(offset + 8, offset + sizeBytes), lengthCrc)
}

/** Writes an entry record at `offset`; returns its size. */
export function encodeEntry(buf: Buffer, offset: number, shard: number, entry: LogEntry): number {
  const size = RECORD_HEADER_BYTES + entry.payload.byteLength
  writeHeader(buf, offset, entry.payload.byteLength, shard, RecordType.entryFlag | entry.kind, entry.term, entry.index)
  buf.set(entry.payload, offset + RECORD_HEADER_BYTES)
  sealCrc(buf, offset, size)
  return size
}

export function encodeHardState(buf: Buffer, offset: number, shard: number, hardState: HardState): number {
  const size = RECORD_HEADER_BYTES + HARD_STATE_PAYLOAD_BYTES
  writeHeader(buf, offset, HARD_STATE_PAYLOAD_BYTES, shard, RecordType.hardState, hardState.term, hardState.commit)
  writeSafeU64(buf, hardState.vote, offset + RECORD_HEADER_BYTES)
  sealCrc(buf, offset, size)
  return size
}

export function encodeTruncate(buf: Buffer, offset: number, shard: number, fromIndex: number): number {
  writeHeader(buf, offset, 0, shard, RecordType.truncate, 0, fromIndex)
  sealCrc(buf, offset, RECORD_HEADER_BYTES)
  return RECORD_HEADER_BYTES
}

export function encodeSnapshotMark(buf: Buffer, offset: number, shard: number, mark: SnapshotMark): number {
  writeHeader(buf, offset, 0, shard, RecordType.snapshotMark, mark.term, mark.index)
  sealCrc(buf, offset, RECORD_HEADER_BYTES)
  return RECORD_HEADER_BYTES
}

/**
 * Decodes the record at `offset` of `buf`, whose valid bytes end at `end`.
 * Entry payloads are views into `buf` (copy them to keep them past the buffer's reuse).
 */
export function decodeRecord(buf: Buffer, offset: number, end: number, payloadBytesMax: number): DecodeResult {
  if (end - offset < RECORD_HEADER_BYTES) return { status: 'torn' }
  const payloadBytes = buf.readUInt32LE(offset)
  if (payloadBytes > payloadBytesMax) return { status: 'corrupt', reason: `payload length ${payloadBytes} over the bound` }
  const size = RECORD_HEADER_BYTES + payloadBytes
  if (end - offset < size) return { status: 'torn' }
  if (buf.readUInt32LE(offset + 4) !== recordCrc(buf, offset, size)) return { status: 'corrupt', reason: 'CRC mismatch' }
  const shard = buf.readUInt32LE(offset + 8)
  const type = buf.readUInt8(offset + 12)
  const term = readSafeU64(buf, offset + 13)
  const index = readSafeU64(buf, offset + 21)
  if (term < 0 || index < 0) return { status: 'corrupt', reason: 'term or index over 2^53-1' }
  const payloadStart = offset + RECORD_HEADER_BYTES
  const ok = (record: WalRecord): DecodeResult => ({ status: 'ok', record, sizeBytes: size })
  if ((type & RecordType.entryFlag) !== 0) {
    const payload = buf.subarray(payloadStart, payloadStart + payloadBytes)
    return ok({ type: 'entry', shard, entry: { index, term, kind: type & ENTRY_KIND_MAX, payload } })
  }
  switch (type) {
    case RecordType.hardState: {
      if (payloadBytes !== HARD_STATE_PAYLOAD_BYTES) return { status: 'corrupt', reason: 'hard state of wrong size' }
      const vote = readSafeU64(buf, payloadStart)
      if (vote < 0) return { status: 'corrupt', reason: 'vote over 2^53-1' }
      return ok({ type: 'hardState', shard, hardState: { term, vote, commit: index } })
    }
    case RecordType.truncate:
      return payloadBytes === 0 ? ok({ type: 'truncate', shard, fromIndex: index }) : { status: 'corrupt', reason: 'truncate with payload' }
    case RecordType.snapshotMark:
      return payloadBytes === 0
        ? ok({ type: 'snapshotMark', shard, mark: { index, term } })
        : { status: 'corrupt', reason: 'snapshot mark with payload' }
    default:
      return { status: 'corrupt', reason: `unknown record type ${type}` }
  }
}

/** Checks a record read back by location (the read path re-verifies what recovery verified once). */
export function decodeEntryAt(buf: Buffer, offset: number, end: number, payloadBytesMax: number): LogEntry {
  const result = decodeRecord(buf, offset, end, payloadBytesMax)
  if (result.status !== 'ok' || result.record.type !== 'entry') {
    const why = result.status === 'corrupt' ? result.reason : result.status === 'torn' ? 'short read' : 'not an entry'
    throw new WalError('WAL_CORRUPT_RECORD', `entry record failed verification: ${why}`)
  }
  return result.record.entry
}
