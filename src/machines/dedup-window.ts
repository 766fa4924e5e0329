// The dedup ids a queue remembers: a repeat within DEDUP_WINDOW_MS of the
// first send returns the first message's key. Ids are forgotten in the order
// they were first seen (send times never decrease), so a FIFO suffices.
import { invariant } from './errors.js'
import { DEDUP_WINDOW_MS } from './limits.js'
import type { MessageKey } from './message-id.js'

/** One remembered id; never changed once made, so a snapshot may hold it by reference. */
interface DedupEntry {
  readonly id: string
  readonly key: MessageKey
  readonly firstSentAtMs: number
}

/** Compact the FIFO once this many consumed slots sit at its head. */
const COMPACT_HEAD_MIN = 1024

export class DedupWindow {
  private readonly byId = new Map<string, DedupEntry>()
  /** The same entries in the order they were first seen (send times never decrease). */
  private readonly fifo: DedupEntry[] = []
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
    const last = this.fifo.length - 1
    invariant(last < this.head || this.fifo[last]!.firstSentAtMs <= nowMs, 'dedup times must not go backwards')
    invariant(!this.byId.has(dedupId), 'dedup id remembered twice')
    const entry: DedupEntry = { id: dedupId, key, firstSentAtMs: nowMs }
    this.byId.set(dedupId, entry)
    this.fifo.push(entry)
  }

  /** When the oldest remembered id is forgotten, or Infinity. */
  nextExpiryMs(): number {
    return this.head < this.fifo.length ? this.fifo[this.head]!.firstSentAtMs + DEDUP_WINDOW_MS : Infinity
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
    invariant(this.head < this.fifo.length, 'dedup window is empty')
    const entry = this.fifo[this.head]!
    invariant(this.byId.get(entry.id) === entry, 'dedup FIFO and index disagree')
    this.byId.delete(entry.id)
    this.head++
    if (this.head >= COMPACT_HEAD_MIN && this.head * 2 >= this.fifo.length) {
      this.fifo.splice(0, this.head)
      this.head = 0
    }
  }

  /**
   * For snapshots: copies the live entries now (one array copy of
   * references) and returns what turns that copy into flat
   * [id, key, firstSentAtMs] triples, in FIFO order, later.
   */
  capture(): () => (string | number)[] {
    const entries = this.fifo.slice(this.head)
    return () => {
      const flat: (string | number)[] = new Array(entries.length * 3)
      for (let at = 0; at < entries.length; at++) {
        const entry = entries[at]!
        flat[3 * at] = entry.id
        flat[3 * at + 1] = entry.key
        flat[3 * at + 2] = entry.firstSentAtMs
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
