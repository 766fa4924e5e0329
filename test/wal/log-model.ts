// A deliberately naive model of what the WAL promises per shard, to compare against.
import type { HardState, LogEntry, ShardWrite, Wal } from '../../src/wal/index.js'
import type { WalRecord } from '../../src/wal/record-codec.js'

export interface ModelShard {
  snapshotIndex: number
  lastIndex: number
  entries: Map<number, { term: number; payload: string }>
  hardState: HardState | undefined
}

export class LogModel {
  readonly shards = new Map<number, ModelShard>()

  shard(id: number): ModelShard {
    let s = this.shards.get(id)
    if (s === undefined) {
      s = { snapshotIndex: 0, lastIndex: 0, entries: new Map(), hardState: undefined }
      this.shards.set(id, s)
    }
    return s
  }

  mark(id: number, index: number): void {
    const s = this.shard(id)
    if (index <= s.snapshotIndex) return
    for (const i of [...s.entries.keys()]) if (i <= index) s.entries.delete(i)
    s.snapshotIndex = index
    if (index >= s.lastIndex) s.lastIndex = index
  }

  truncate(id: number, fromIndex: number): void {
    const s = this.shard(id)
    for (const i of [...s.entries.keys()]) if (i >= fromIndex) s.entries.delete(i)
    s.lastIndex = Math.max(s.snapshotIndex, Math.min(s.lastIndex, fromIndex - 1))
  }

  append(id: number, entry: LogEntry): void {
    const s = this.shard(id)
    // The format's rule: an entry at or below the last index replaces the suffix from there.
    if (entry.index <= s.lastIndex) this.truncate(id, Math.max(entry.index, s.snapshotIndex + 1))
    if (entry.index <= s.snapshotIndex) return
    s.entries.set(entry.index, { term: entry.term, payload: Buffer.from(entry.payload).toString('hex') })
    s.lastIndex = entry.index
  }

  applyWrite(write: ShardWrite): void {
    this.shard(write.shard)
    if (write.snapshot !== undefined) this.mark(write.shard, write.snapshot.index)
    if (write.truncateFrom !== undefined) this.truncate(write.shard, write.truncateFrom)
    for (const e of write.entries ?? []) this.append(write.shard, e)
    if (write.hardState !== undefined) this.shard(write.shard).hardState = { ...write.hardState }
  }

  applyRecord(record: WalRecord): void {
    switch (record.type) {
      case 'snapshotMark':
        return this.mark(record.shard, record.mark.index)
      case 'truncate':
        return this.truncate(record.shard, record.fromIndex)
      case 'entry':
        return this.append(record.shard, record.entry)
      case 'hardState':
        this.shard(record.shard).hardState = { ...record.hardState }
    }
  }
}

export interface ObservedShard {
  snapshotIndex: number
  lastIndex: number
  entries: Array<[number, number, string]>
  hardState: HardState | undefined
}

export async function observe(wal: Wal, shard: number): Promise<ObservedShard> {
  const state = wal.shardState(shard)
  const read = state.lastIndex >= state.firstIndex ? await wal.readEntries(shard, state.firstIndex, state.lastIndex + 1, Infinity) : []
  return {
    snapshotIndex: state.snapshotIndex,
    lastIndex: state.lastIndex,
    entries: read.map((e) => [e.index, e.term, Buffer.from(e.payload).toString('hex')]),
    hardState: state.hardState,
  }
}

export function expectedOf(model: LogModel, shard: number): ObservedShard {
  const s = model.shard(shard)
  return {
    snapshotIndex: s.snapshotIndex,
    lastIndex: s.lastIndex,
    entries: [...s.entries].sort((a, b) => a[0] - b[0]).map(([i, e]) => [i, e.term, e.payload]),
    hardState: s.hardState,
  }
}
