// A segment is one file `wal-<16-digit sequence>.log`: a 16-byte header (magic,
// sequence, CRC32C of both) followed by records. Sequence numbers grow by one per roll.
import { crc32c } from '@node-rs/crc32'

export const SEGMENT_HEADER_BYTES = 16
const MAGIC = Buffer.from('TRWAL001', 'latin1')
const NAME_PATTERN = /^wal-(\d{16})\.log$/

export function segmentFileName(sequence: number): string {
  return `wal-${String(sequence).padStart(16, '0')}.log`
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = NAME_PATTERN.exec(name)
  return match === null ? undefined : Number(match[1])
}

export function encodeSegmentHeader(sequence: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES)
  MAGIC.copy(buf, 0)
  buf.writeUInt32LE(sequence, 8)
  buf.writeUInt32LE(crc32c(buf.subarray(0, 12)), 12)
  return buf
}

export function isValidSegmentHeader(buf: Buffer, sequence: number): boolean {
  if (buf.byteLength < SEGMENT_HEADER_BYTES) return false
  if (!buf.subarray(0, 8).equals(MAGIC)) return false
  if (buf.readUInt32LE(8) !== sequence) return false
  return buf.readUInt32LE(12) === crc32c(buf.subarray(0, 12))
}
