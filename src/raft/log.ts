// The Raft log as the core sees it: persisted entries (RaftStorage) followed
// by entries not yet persisted (Unstable), plus the commit and apply marks.
import { countWithinSize, entrySizeBytes } from './entries.js'
import { RaftError } from './errors.js'
import type { RaftStorage } from './storage.js'
import type { Entry, Snapshot } from './types.js'
import { Unstable } from './unstable.js'

export class RaftLog {
  readonly storage: RaftStorage
  readonly unstable: Unstable
  committed: number
  /** The last index handed to the application in Ready.committedEntries and advanced. */
  applied: number

  constructor(storage: RaftStorage) {
    this.storage = storage
    const firstIndex = storage.firstIndex()
    this.unstable = new Unstable(storage.lastIndex() + 1)
    this.committed = firstIndex - 1
    this.applied = firstIndex - 1
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex()
  }

  /** Term of entry `index`; throws COMPACTED or UNAVAILABLE outside [firstIndex - 1, lastIndex]. */
  term(index: number): number {
    const dummyIndex = this.firstIndex() - 1
    if (index < dummyIndex) throw new RaftError('COMPACTED', `term: index ${index} is compacted`)
    if (index > this.lastIndex()) throw new RaftError('UNAVAILABLE', `term: index ${index} is past the last index`)
    return this.unstable.maybeTerm(index) ?? this.storage.term(index)
  }

  /** Term of entry `index`, or 0 when it is not available. */
  termOrZero(index: number): number {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0
    return this.unstable.maybeTerm(index) ?? this.storage.term(index)
  }

  lastTerm(): number {
    return this.term(this.lastIndex())
  }

  matchTerm(index: number, term: number): boolean {
    if (index > this.lastIndex() || index < this.firstIndex() - 1) return false
    return (this.unstable.maybeTerm(index) ?? this.storage.term(index)) === term
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourLastTerm = this.lastTerm()
    return term > ourLastTerm || (term === ourLastTerm && lastIndex >= this.lastIndex())
  }

  /**
   * Appends `entries` following (index, logTerm) when our log holds that entry;
   * returns the new last index, or -1 when it does not match (the append is rejected).
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1
    const lastNewIndex = index + entries.length
    const conflictIndex = this.findConflict(entries)
    if (conflictIndex !== 0) {
      if (conflictIndex <= this.committed) {
        throw new RaftError('INVARIANT', `entry ${conflictIndex} conflicts with committed entry (committed ${this.committed})`)
      }
      const start = conflictIndex - (index + 1)
      this.append(start === 0 ? entries : entries.slice(start))
    }
    this.commitTo(Math.min(committed, lastNewIndex))
    return lastNewIndex
  }

  append(entries: Entry[]): number {
    if (entries.length === 0) return this.lastIndex()
    const after = entries[0]!.index - 1
    if (after < this.committed) throw new RaftError('INVARIANT', `append after ${after} would overwrite committed ${this.committed}`)
    this.unstable.truncateAndAppend(entries)
    return this.lastIndex()
  }

  /** The index of the first entry whose term differs from ours (or that we lack); 0 when all match. */
  findConflict(entries: readonly Entry[]): number {
    const lastIndex = this.lastIndex()
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      if (entry.index > lastIndex || !this.matchTerm(entry.index, entry.term)) return entry.index
    }
    return 0
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term
   * (etcd's findConflictByTerm): lets a leader skip a whole term of
   * mismatching entries per probe instead of one entry.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    const first = this.firstIndex() - 1
    for (let i = Math.min(index, this.lastIndex()); i >= first; i--) {
      const t = this.termOrZero(i)
      if (t <= term) return { index: i, term: t }
    }
    return { index: first, term: 0 }
  }

  commitTo(index: number): void {
    if (index <= this.committed) return
    if (index > this.lastIndex()) throw new RaftError('INVARIANT', `commitTo(${index}) is past the last index ${this.lastIndex()}`)
    this.committed = index
  }

  /** §5.4.2: only an entry of the current term is committed by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index)
      return true
    }
    return false
  }

  appliedTo(index: number): void {
    if (index === 0) return
    if (index > this.committed || index < this.applied) {
      throw new RaftError('INVARIANT', `appliedTo(${index}) outside [applied ${this.applied}, committed ${this.committed}]`)
    }
    this.applied = index
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term)
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index)
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.length === 0 ? [] : this.unstable.entries.slice()
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1)
  }

  nextCommittedEntries(maxSizeBytes: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex())
    if (this.committed + 1 <= lo) return []
    return this.slice(lo, this.committed + 1, maxSizeBytes)
  }

  /** Entries from `index` to the end, within maxSizeBytes (at least one). Throws COMPACTED. */
  entriesFrom(index: number, maxSizeBytes: number): Entry[] {
    if (index > this.lastIndex()) return []
    return this.slice(index, this.lastIndex() + 1, maxSizeBytes)
  }

  /** Entries [lo, hi) within maxSizeBytes (at least one). Throws COMPACTED when lo < firstIndex. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    if (lo < this.firstIndex()) throw new RaftError('COMPACTED', `slice: index ${lo} is compacted`)
    if (hi > this.lastIndex() + 1) throw new RaftError('INVARIANT', `slice: hi ${hi} is past the last index ${this.lastIndex()}`)
    if (lo >= hi) return []
    const unstable = this.unstable
    let result: Entry[] = []
    let sizeBytes = 0
    if (lo < unstable.offset) {
      const storedHi = Math.min(hi, unstable.offset)
      result = this.storage.entries(lo, storedHi, maxSizeBytes)
      if (result.length < storedHi - lo || hi <= unstable.offset) return result
      for (let i = 0; i < result.length; i++) sizeBytes += entrySizeBytes(result[i]!)
    }
    const from = Math.max(lo, unstable.offset) - unstable.offset
    const to = hi - unstable.offset
    if (result.length === 0) {
      const count = countWithinSize(unstable.entries, from, to, maxSizeBytes)
      return unstable.entries.slice(from, from + count)
    }
    for (let i = from; i < to; i++) {
      const entry = unstable.entries[i]!
      sizeBytes += entrySizeBytes(entry)
      if (sizeBytes > maxSizeBytes) break
      result.push(entry)
    }
    return result
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot()
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index
    this.unstable.restore(snapshot)
  }
}
