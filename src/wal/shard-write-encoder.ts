// Validates one ShardWrite against what the shard has already submitted and encodes
// it into a single buffer. Validation happens at submit time, in submission order, so
// a bad write is refused before anything of it is queued.
import { WalError } from './errors.js'
import {
  encodeEntry,
  encodeHardState,
  encodeSnapshotMark,
  encodeTruncate,
  ENTRY_KIND_MAX,
  HARD_STATE_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
} from './record-codec.js'
import { assertSafeU64 } from './safe-u64.js'
import type { HardState, ShardWrite, SnapshotMark } from './types.js'

/** A shard's log as seen by everything submitted so far (written or not). */
export interface AcceptedShard {
  snapshotIndex: number
  lastIndex: number
  /** Unknown right after a truncation until entries follow. */
  lastTerm: number | undefined
}

export interface EncodedEntry {
  index: number
  term: number
  kind: number
  /** Offset of the record within `EncodedWrite.buffer`. */
  offsetBytes: number
  sizeBytes: number
  /** The payload as a view into the encoded buffer (what the cache keeps). */
  payload: Buffer
}

export interface EncodedWrite {
  shard: number
  buffer: Buffer
  recordCount: number
  snapshot: SnapshotMark | undefined
  truncateFrom: number | undefined
  entries: EncodedEntry[]
  hardState: HardState | undefined
  /** The shard's accepted state once this write is applied. */
  after: AcceptedShard
}

export interface EncodeLimits {
  payloadBytesMax: number
  writeBytesMax: number
}

const U32_MAX = 0xffff_ffff

function invalid(message: string): WalError {
  return new WalError('WAL_INVALID_ARGUMENT', message)
}

export function encodeShardWrite(write: ShardWrite, accepted: AcceptedShard, limits: EncodeLimits): EncodedWrite {
  const { shard } = write
  if (!Number.isInteger(shard) || shard < 0 || shard > U32_MAX) throw invalid(`shard id must be a u32, got ${shard}`)
  let { snapshotIndex, lastIndex, lastTerm } = accepted
  let sizeBytes = 0
  let recordCount = 0

  const { snapshot } = write
  if (snapshot !== undefined) {
    assertSafeU64(snapshot.index, 'snapshot.index')
    assertSafeU64(snapshot.term, 'snapshot.term')
    if (snapshot.index > snapshotIndex) {
      if (snapshot.index >= lastIndex) {
        lastIndex = snapshot.index
        lastTerm = snapshot.term
      }
      snapshotIndex = snapshot.index
    }
    sizeBytes += RECORD_HEADER_BYTES
    recordCount++
  }

  const { truncateFrom } = write
  if (truncateFrom !== undefined) {
    assertSafeU64(truncateFrom, 'truncateFrom')
    if (truncateFrom <= snapshotIndex) {
      throw new WalError('WAL_COMPACTED', `shard ${shard}: truncateFrom ${truncateFrom} is covered by snapshot ${snapshotIndex}`)
    }
    if (truncateFrom > lastIndex + 1) {
      throw invalid(`shard ${shard}: truncateFrom ${truncateFrom} is past the next index ${lastIndex + 1}`)
    }
    if (truncateFrom <= lastIndex) {
      lastIndex = truncateFrom - 1
      lastTerm = lastIndex === snapshotIndex ? (snapshot?.term ?? undefined) : undefined
    }
  }

  const entries = write.entries ?? []
  // With entries, the first one (at truncateFrom, at or below the old last index) carries
  // the truncation on disk: a torn write then either drops nothing or drops the suffix
  // together with its first replacement. Only a truncation without entries needs a record.
  const truncateRecord = truncateFrom !== undefined && entries.length === 0
  if (truncateRecord) {
    sizeBytes += RECORD_HEADER_BYTES
    recordCount++
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    assertSafeU64(entry.index, 'entry.index')
    assertSafeU64(entry.term, 'entry.term')
    if (entry.index !== lastIndex + 1) {
      throw new WalError(
        'WAL_NOT_CONTIGUOUS',
        `shard ${shard}: entry ${entry.index} does not follow ${lastIndex}; pass truncateFrom to replace a suffix`,
      )
    }
    if (lastTerm !== undefined && entry.term < lastTerm) {
      throw invalid(`shard ${shard}: entry ${entry.index} has term ${entry.term} below the previous term ${lastTerm}`)
    }
    if (!Number.isInteger(entry.kind) || entry.kind < 0 || entry.kind > ENTRY_KIND_MAX) {
      throw invalid(`entry kind must be an integer in [0, ${ENTRY_KIND_MAX}], got ${entry.kind}`)
    }
    if (!(entry.payload instanceof Uint8Array)) throw invalid('entry payload must be a Uint8Array')
    if (entry.payload.byteLength > limits.payloadBytesMax) {
      throw new WalError('WAL_WRITE_TOO_LARGE', `entry payload of ${entry.payload.byteLength} bytes exceeds ${limits.payloadBytesMax}`)
    }
    lastIndex = entry.index
    lastTerm = entry.term
    sizeBytes += RECORD_HEADER_BYTES + entry.payload.byteLength
    recordCount++
  }

  const { hardState } = write
  if (hardState !== undefined) {
    assertSafeU64(hardState.term, 'hardState.term')
    assertSafeU64(hardState.vote, 'hardState.vote')
    assertSafeU64(hardState.commit, 'hardState.commit')
    sizeBytes += RECORD_HEADER_BYTES + HARD_STATE_PAYLOAD_BYTES
    recordCount++
  }

  if (sizeBytes > limits.writeBytesMax) {
    throw new WalError('WAL_WRITE_TOO_LARGE', `write of ${sizeBytes} bytes exceeds the batch bound ${limits.writeBytesMax}`)
  }

  const buffer = Buffer.allocUnsafe(sizeBytes)
  let offset = 0
  if (snapshot !== undefined) offset += encodeSnapshotMark(buffer, offset, shard, snapshot)
  if (truncateRecord) offset += encodeTruncate(buffer, offset, shard, truncateFrom!)
  const encodedEntries: EncodedEntry[] = new Array<EncodedEntry>(entries.length)
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const size = encodeEntry(buffer, offset, shard, entry)
    encodedEntries[i] = {
      index: entry.index,
      term: entry.term,
      kind: entry.kind,
      offsetBytes: offset,
      sizeBytes: size,
      payload: buffer.subarray(offset + RECORD_HEADER_BYTES, offset + size),
    }
    offset += size
  }
  if (hardState !== undefined) offset += encodeHardState(buffer, offset, shard, hardState)

  return {
    shard,
    buffer,
    recordCount,
    snapshot: snapshot === undefined ? undefined : { index: snapshot.index, term: snapshot.term },
    truncateFrom,
    entries: encodedEntries,
    hardState: hardState === undefined ? undefined : { ...hardState },
    after: { snapshotIndex, lastIndex, lastTerm },
  }
}
