// The read path: find where a range of a shard's entries lives (memory or disk), then
// read the uncached ones with one pread per run of nearby records, re-checking each
// record's CRC and identity.
import { WalError } from './errors.js'
import { readFullyAt } from './fs-io.js'
import { decodeEntryAt } from './record-codec.js'
import type { Segment } from './segment.js'
import type { IndexedEntry, ShardLog } from './shard-log.js'
import type { LogEntry } from './types.js'

/** Reads bigger than this are split rather than reading other shards' records in between. */
const READ_SPAN_BYTES_MAX = 1 << 20

/** Locations of [fromIndex, toIndexExclusive), stopping once `maxBytes` is reached (at least one). */
export function locateEntries(
  log: ShardLog | undefined,
  shard: number,
  fromIndex: number,
  toIndexExclusive: number,
  maxBytes: number,
): IndexedEntry[] {
  const snapshotIndex = log?.snapshotIndex ?? 0
  const lastIndex = log?.lastIndex ?? 0
  if (!Number.isSafeInteger(fromIndex) || !Number.isSafeInteger(toIndexExclusive) || fromIndex > toIndexExclusive) {
    throw new WalError('WAL_INVALID_ARGUMENT', `bad range [${fromIndex}, ${toIndexExclusive})`)
  }
  if (fromIndex <= snapshotIndex) {
    throw new WalError('WAL_COMPACTED', `shard ${shard}: index ${fromIndex} is covered by snapshot ${snapshotIndex}`)
  }
  if (toIndexExclusive > lastIndex + 1) {
    throw new WalError('WAL_OUT_OF_RANGE', `shard ${shard}: range ends at ${toIndexExclusive - 1}, last durable index is ${lastIndex}`)
  }
  const located: IndexedEntry[] = []
  let bytes = 0
  for (let index = fromIndex; index < toIndexExclusive; index++) {
    const entry = log!.entryAt(index)!
    const payloadBytes = entry.payload?.byteLength ?? entry.sizeBytes
    if (located.length > 0 && bytes + payloadBytes > maxBytes) break
    located.push(entry)
    bytes += payloadBytes
  }
  return located
}

/**
 * Reads the located entries. Must be called synchronously after locating them: it
 * holds every needed segment open before its first await, so that a deletion racing
 * with the read cannot close an fd (and let the number be reused) under it.
 */
export async function readLocatedEntries(
  located: IndexedEntry[],
  segments: readonly Segment[],
  payloadBytesMax: number,
): Promise<LogEntry[]> {
  const result: LogEntry[] = new Array<LogEntry>(located.length)
  const held = new Map<number, { segment: Segment; release: () => void }>()
  for (const entry of located) {
    if (entry.payload !== undefined || held.has(entry.segment)) continue
    const segment = segments.find((s) => s.sequence === entry.segment)
    if (segment === undefined) throw new WalError('WAL_CORRUPT_RECORD', `segment ${entry.segment} is gone`)
    held.set(entry.segment, { segment, release: segment.acquire() })
  }
  try {
    let i = 0
    while (i < located.length) {
      const first = located[i]!
      if (first.payload !== undefined) {
        result[i] = { index: first.index, term: first.term, kind: first.kind, payload: first.payload }
        i++
        continue
      }
      // Coalesce the following uncached entries of the same segment into one read.
      let end = i + 1
      while (
        end < located.length &&
        located[end]!.payload === undefined &&
        located[end]!.segment === first.segment &&
        located[end]!.offset + located[end]!.sizeBytes - first.offset <= READ_SPAN_BYTES_MAX
      ) {
        end++
      }
      await readRun(held.get(first.segment)!.segment, located, i, end, result, payloadBytesMax)
      i = end
    }
    return result
  } finally {
    for (const { release } of held.values()) release()
  }
}

async function readRun(
  segment: Segment,
  located: IndexedEntry[],
  from: number,
  to: number,
  result: LogEntry[],
  payloadBytesMax: number,
): Promise<void> {
  const first = located[from]!
  const last = located[to - 1]!
  const spanBytes = last.offset + last.sizeBytes - first.offset
  const buf = Buffer.allocUnsafe(spanBytes)
  const got = await readFullyAt(segment.fd, buf, spanBytes, first.offset)
  let usedBytes = 0
  for (let i = from; i < to; i++) usedBytes += located[i]!.sizeBytes
  const dense = usedBytes === spanBytes
  for (let i = from; i < to; i++) {
    const want = located[i]!
    const at = want.offset - first.offset
    const entry = decodeEntryAt(buf, at, Math.min(got, at + want.sizeBytes), payloadBytesMax)
    if (entry.index !== want.index || entry.term !== want.term) {
      throw new WalError('WAL_CORRUPT_RECORD', `expected entry ${want.index}/${want.term}, found ${entry.index}/${entry.term}`)
    }
    // Keep sparse spans from pinning other shards' bytes in memory.
    result[i] = { ...entry, payload: dense ? entry.payload : Buffer.from(entry.payload) }
  }
}
