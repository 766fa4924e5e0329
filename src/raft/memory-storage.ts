// RaftStorage held in memory. ents[0] is a dummy entry standing for the last
// entry covered by the snapshot, so term(snapshotIndex) is always answerable.
import { countWithinSize, EMPTY_BYTES } from './entries.js'
import { RaftError } from './errors.js'
import type { InitialState, RaftStorage } from './storage.js'
import type { ConfState, Entry, HardState, Snapshot } from './types.js'

function dummyEntry(index: number, term: number): Entry {
  return { term, index, type: 'normal', data: EMPTY_BYTES }
}

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] }
}

export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 }
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: EMPTY_BYTES }
  private ents: Entry[] = [dummyEntry(0, 0)]
  /** The membership as of the last applied conf change (or snapshot); may be newer than the snapshot's. */
  private confState: ConfState = { voters: [], learners: [] }

  /**
   * The storage of an initial member of a new group: a bootstrap snapshot at
   * index 1, term 1 holding the initial membership and empty data (the state
   * machine's initial state). Nodes that join later start from `new MemoryStorage()`
   * and receive this or a later snapshot from the leader.
   */
  static bootstrap(confState: ConfState): MemoryStorage {
    const storage = new MemoryStorage()
    storage.applySnapshot({ metadata: { index: 1, term: 1, confState: copyConfState(confState) }, data: EMPTY_BYTES })
    storage.setHardState({ term: 1, vote: 0, commit: 1 })
    return storage
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: copyConfState(this.confState) }
  }

  setHardState(hardState: HardState): void {
    this.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit }
  }

  /**
   * The application records the membership of each applied conf change here so
   * that a restart sees it (a node with no snapshot yet may also start from it).
   */
  setConfState(confState: ConfState): void {
    this.confState = copyConfState(confState)
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0]!.index
    if (lo <= offset) throw new RaftError('COMPACTED', `entries: index ${lo} is compacted (first is ${offset + 1})`)
    if (hi > this.lastIndex() + 1) throw new RaftError('UNAVAILABLE', `entries: hi ${hi} is past last index ${this.lastIndex()}`)
    const from = lo - offset
    const count = countWithinSize(this.ents, from, hi - offset, maxSizeBytes)
    return this.ents.slice(from, from + count)
  }

  term(index: number): number {
    const offset = this.ents[0]!.index
    if (index < offset) throw new RaftError('COMPACTED', `term: index ${index} is compacted (first is ${offset + 1})`)
    const entry = this.ents[index - offset]
    if (entry === undefined) throw new RaftError('UNAVAILABLE', `term: index ${index} is past last index ${this.lastIndex()}`)
    return entry.term
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1
  }

  snapshot(): Snapshot {
    return this.snap
  }

  /** Replaces the whole log by a snapshot received from the leader (Ready.snapshot). */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata
    if (index <= this.snap.metadata.index) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `applySnapshot: index ${index} <= current snapshot index ${this.snap.metadata.index}`)
    }
    this.snap = snapshot
    this.ents = [dummyEntry(index, term)]
    this.confState = copyConfState(snapshot.metadata.confState)
  }

  /**
   * Records a snapshot of the application's state as of `index` (which must be
   * applied). `confState` is the membership as of `index`; it defaults to the
   * last one recorded with setConfState, right when `index` is the applied index.
   */
  createSnapshot(index: number, data: Uint8Array, confState?: ConfState): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `createSnapshot: index ${index} <= current snapshot index ${this.snap.metadata.index}`)
    }
    if (index > this.lastIndex()) throw new RaftError('UNAVAILABLE', `createSnapshot: index ${index} is past last index ${this.lastIndex()}`)
    const term = this.ents[index - this.ents[0]!.index]!.term
    const cs = copyConfState(confState ?? this.confState)
    this.snap = { metadata: { index, term, confState: cs }, data }
    return this.snap
  }

  /** Discards entries up to and including compactIndex (normally a snapshot's index). */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index
    if (compactIndex <= offset) return
    if (compactIndex > this.lastIndex()) throw new RaftError('UNAVAILABLE', `compact: index ${compactIndex} is past last index ${this.lastIndex()}`)
    const i = compactIndex - offset
    const kept = this.ents.slice(i)
    kept[0] = dummyEntry(this.ents[i]!.index, this.ents[i]!.term)
    this.ents = kept
  }

  /** Appends Ready.entries; a conflicting suffix is replaced. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const last = entries[0]!.index + entries.length - 1
    if (last < first) return
    const skip = first > entries[0]!.index ? first - entries[0]!.index : 0
    const at = entries[skip]!.index - this.ents[0]!.index
    if (at > this.ents.length) {
      throw new RaftError('INVARIANT', `append: entry ${entries[skip]!.index} leaves a gap after last index ${this.lastIndex()}`)
    }
    if (at < this.ents.length) this.ents.length = at
    for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!)
  }
}
