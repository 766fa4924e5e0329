// Sizes of entries as flow control counts them.
import type { Entry, Message } from './types.js'

/** Per-entry framing counted on top of the payload (term, index, type). */
export const ENTRY_OVERHEAD_BYTES = 24

export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES
}

/** Payload bytes only: what the uncommitted-proposal bound counts (empty leader entries are free). */
export function payloadSizeBytes(entries: readonly Entry[]): number {
  let size = 0
  for (let i = 0; i < entries.length; i++) size += entries[i]!.data.byteLength
  return size
}

/**
 * How many entries of `entries[from..to)` fit in maxSizeBytes; at least one
 * when the range is non-empty, so that a single large entry still moves.
 */
export function countWithinSize(entries: readonly Entry[], from: number, to: number, maxSizeBytes: number): number {
  if (to <= from) return 0
  let size = entrySizeBytes(entries[from]!)
  let i = from + 1
  for (; i < to; i++) {
    size += entrySizeBytes(entries[i]!)
    if (size > maxSizeBytes) break
  }
  return i - from
}

/** What a message carries beyond its fixed fields: its entries and its snapshot chunk. */
export function messageSizeBytes(message: Message): number {
  let size = message.snapshot?.data.byteLength ?? 0
  for (let i = 0; i < message.entries.length; i++) size += entrySizeBytes(message.entries[i]!)
  return size
}

/**
 * Splits messages, in order, into runs of at most maxSizeBytes (by
 * messageSizeBytes; a run holds at least one message, so a single large
 * one still moves): for a transport whose frames are bounded.
 */
export function splitMessagesBySize(messages: Message[], maxSizeBytes: number): Message[][] {
  let total = 0
  for (const message of messages) total += messageSizeBytes(message)
  if (total <= maxSizeBytes) return messages.length > 0 ? [messages] : []
  const runs: Message[][] = []
  let run: Message[] = []
  let size = 0
  for (const message of messages) {
    const bytes = messageSizeBytes(message)
    if (run.length > 0 && size + bytes > maxSizeBytes) {
      runs.push(run)
      run = []
      size = 0
    }
    run.push(message)
    size += bytes
  }
  if (run.length > 0) runs.push(run)
  return runs
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0)
