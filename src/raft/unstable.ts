// Entries and a snapshot the core holds that the application has not yet
// persisted (handed out in Ready, dropped from here on advance()).
import { RaftError } from './errors.js'
import type { Entry, Snapshot } from './types.js'

export class Unstable {
  snapshot: Snapshot | undefined = undefined
  entries: Entry[] = []
  /** Index of entries[0]. */
  offset: number

  constructor(offset: number) {
    this.offset = offset
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === index) return this.snapshot.metadata.term
      return undefined
    }
    const entry = this.entries[index - this.offset]
    return entry === undefined ? undefined : entry.term
  }

  /** The application persisted entries up to (index, term). */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return
    this.entries = this.entries.slice(index + 1 - this.offset)
    this.offset = index + 1
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1
    this.entries = []
    this.snapshot = snapshot
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const from = entries[0]!.index
    if (from === this.offset + this.entries.length) {
      for (let i = 0; i < entries.length; i++) this.entries.push(entries[i]!)
    } else if (from <= this.offset) {
      // Replaces everything unstable; the storage part is overwritten by the append too.
      this.offset = from
      this.entries = entries.slice()
    } else {
      this.entries = this.entries.slice(0, from - this.offset)
      for (let i = 0; i < entries.length; i++) this.entries.push(entries[i]!)
    }
  }

  /** entries[lo, hi) from the unstable part; the caller checked the bounds. */
  slice(lo: number, hi: number): Entry[] {
    if (lo < this.offset || hi > this.offset + this.entries.length) {
      throw new RaftError('INVARIANT', `unstable.slice(${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`)
    }
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }
}
