// The dedup ids a queue remembers: a repeat within DEDUP_WINDOW_MS of the
// first send returns the first message's key. Ids are forgotten in the order
// they were first seen (send times never decrease), so a FIFO suffices.
import { invariant } from './errors.js'
import { DEDUP_WINDOW_MS } from './limits.js'
import type { MessageKey } from './message-id.js'

interface DedupEntry {
  key: MessageKey
  firstSentAtMs: number
}

/** Compact the FIFO once this many consumed slots sit at its head. */
const COMPACT_HEAD_MIN = 1024

export class DedupWindow {
  private readonly byId = new Map<string, DedupEntry>()
  private readonly fifoIds: string[] = []
  private readonly fifoKeys: MessageKey[] = []
  private readonly fifoTimesMs: number[] = []
  private head = 0

  get size(): number {
    return this.byId.size
  }

  /** The key first sent under `dedupId` if that was less than DEDUP_WINDOW_MS before `nowMs`. */
  lookup(dedupId: string, nowMs: number): MessageKey | undefined {
    const entry = this.byId.get(dedupId)
    if (entry === undefined || entry.firstSentAtMs + DEDUP_WINDOW_MS <= nowMs) return undefined
    return entry.key
  }

  /**
   * Remembers a first sighting. The caller ran `forgetExpired(nowMs)` first, so
   * an id is in the FIFO at most once and the FIFO holds exactly the live ids.
   */
  remember(dedupId: string, key: MessageKey, nowMs: number): void {
    const last = this.fifoTimesMs.length - 1
    invariant(last < this.head || this.fifoTimesMs[last]! <= nowMs, 'dedup times must not go backwards')
    invariant(!this.byId.has(dedupId), 'dedup id remembered twice')
    this.byId.set(dedupId, { key, firstSentAtMs: nowMs })
    this.fifoIds.push(dedupId)
    this.fifoKeys.push(key)
    this.fifoTimesMs.push(nowMs)
  }

  /** When the oldest remembered id is forgotten, or Infinity. */
  nextExpiryMs(): number {
    return this.head < this.fifoTimesMs.length ? this.fifoTimesMs[this.head]! + DEDUP_WINDOW_MS : Infinity
  }

  /** Forgets every id whose window ended at or before `nowMs`; returns how many. */
  forgetExpired(nowMs: number): number {
    let forgotten = 0
    while (this.nextExpiryMs() <= nowMs) {
      this.forgetOldest()
      forgotten++
    }
    return forgotten
  }

  /** Forgets the oldest id (the caller checked `nextExpiryMs() <= now`). */
  forgetOldest(): void {
    invariant(this.head < this.fifoIds.length, 'dedup window is empty')
    const id = this.fifoIds[this.head]!
    invariant(this.byId.get(id)?.firstSentAtMs === this.fifoTimesMs[this.head], 'dedup FIFO and index disagree')
    this.byId.delete(id)
    this.head++
    if (this.head >= COMPACT_HEAD_MIN && this.head * 2 >= this.fifoIds.length) {
      this.fifoIds.splice(0, this.head)
      this.fifoKeys.splice(0, this.head)
      this.fifoTimesMs.splice(0, this.head)
      this.head = 0
    }
  }

  /** Remembered ids in FIFO order, as flat [id, key, firstSentAtMs] triples, for snapshots. */
  toFlat(): (string | number)[] {
    return this.capture()()
  }

  /**
   * Copies the remembered ids now (three array copies, no lookups) and
   * returns what builds toFlat()'s triples from that copy later: a snapshot
   * captures the window at once and encodes it afterwards.
   */
  capture(): () => (string | number)[] {
    const ids = this.fifoIds.slice(this.head)
    const keys = this.fifoKeys.slice(this.head)
    const times = this.fifoTimesMs.slice(this.head)
    return () => {
      const flat: (string | number)[] = new Array(ids.length * 3)
      for (let at = 0; at < ids.length; at++) {
        flat[3 * at] = ids[at]!
        flat[3 * at + 1] = keys[at]!
        flat[3 * at + 2] = times[at]!
      }
      return flat
    }
  }

  static fromFlat(flat: readonly unknown[]): DedupWindow {
    const window = new DedupWindow()
    invariant(flat.length % 3 === 0, 'snapshot: dedup entries must be triples')
    for (let at = 0; at < flat.length; at += 3) {
      window.remember(flat[at] as string, flat[at + 1] as number, flat[at + 2] as number)
    }
    return window
  }
}
