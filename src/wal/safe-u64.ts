// Indexes and terms are JavaScript numbers. On disk they take 8 bytes (little-endian
// u64, written as two u32 halves) so the format never needs to change, but only values
// up to Number.MAX_SAFE_INTEGER (2^53-1) are accepted on write and on read: a larger
// value read back means the bytes are damaged, not that the counter grew that far.
import { WalError } from './errors.js'

const TWO_POW_32 = 0x1_0000_0000
/** The high half of 2^53-1. */
const HIGH_MAX = 0x1f_ffff

export function isSafeU64(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

export function assertSafeU64(value: number, what: string): void {
  if (!isSafeU64(value)) {
    throw new WalError('WAL_INVALID_ARGUMENT', `${what} must be an integer in [0, 2^53-1], got ${value}`)
  }
}

export function writeSafeU64(buf: Buffer, value: number, offset: number): void {
  const high = Math.floor(value / TWO_POW_32)
  buf.writeUInt32LE(value - high * TWO_POW_32, offset)
  buf.writeUInt32LE(high, offset + 4)
}

/** Returns -1 when the stored value exceeds 2^53-1 (the caller treats that as corruption). */
export function readSafeU64(buf: Buffer, offset: number): number {
  const high = buf.readUInt32LE(offset + 4)
  if (high > HIGH_MAX) return -1
  return high * TWO_POW_32 + buf.readUInt32LE(offset)
}
