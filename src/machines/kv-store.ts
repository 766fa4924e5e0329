// The KV part of a shard. A value's version is the log index of the write
// that produced it, so versions grow per key, across delete and re-create too.
// TTLs compare against the machine's time; an expired key reads as absent at
// once and is removed by a tick or by the next command touching it.
import { machineError, type MachineError } from './errors.js'
import { IndexedHeap, NOT_IN_HEAP, type HeapPosition } from './indexed-heap.js'
import type { KvEntryView } from './results.js'

export class KvEntry {
  ttlPos = NOT_IN_HEAP
  constructor(
    readonly key: string,
    public value: Uint8Array,
    public version: number,
    /** 0 = never. */
    public expiresAtMs: number,
  ) {}
}

const ttlPosition: HeapPosition<KvEntry> = {
  get: (e) => e.ttlPos,
  set: (e, p) => {
    e.ttlPos = p
  },
}

function expiresBefore(a: KvEntry, b: KvEntry): boolean {
  return a.expiresAtMs !== b.expiresAtMs ? a.expiresAtMs < b.expiresAtMs : a.key < b.key
}

function isExpired(entry: KvEntry, nowMs: number): boolean {
  return entry.expiresAtMs !== 0 && entry.expiresAtMs <= nowMs
}

export class KvStore {
  readonly entries = new Map<string, KvEntry>()
  private readonly ttl = new IndexedHeap<KvEntry>(expiresBefore, ttlPosition)

  get size(): number {
    return this.entries.size
  }

  get(key: string, nowMs: number): KvEntryView | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined || isExpired(entry, nowMs)) return undefined
    return { value: entry.value, version: entry.version, expiresAtMs: entry.expiresAtMs }
  }

  put(key: string, value: Uint8Array, ttlMs: number, ifVersion: number | undefined, index: number, nowMs: number): { version: number } | MachineError {
    const current = this.live(key, nowMs)
    const conflict = checkIfVersion(current, ifVersion)
    if (conflict !== undefined) return conflict
    const expiresAtMs = ttlMs > 0 ? nowMs + ttlMs : 0
    if (current === undefined) {
      const entry = new KvEntry(key, value, index, expiresAtMs)
      this.entries.set(key, entry)
      if (expiresAtMs !== 0) this.ttl.push(entry)
    } else {
      current.value = value
      current.version = index
      this.setExpiry(current, expiresAtMs)
    }
    return { version: index }
  }

  delete(key: string, ifVersion: number | undefined, nowMs: number): { version: number } | MachineError {
    const current = this.live(key, nowMs)
    if (current === undefined) return machineError('KEY_NOT_FOUND', `key not found`)
    const conflict = checkIfVersion(current, ifVersion)
    if (conflict !== undefined) return conflict
    this.remove(current)
    return { version: current.version }
  }

  /** Removes up to `budget` expired keys, earliest first; returns how many. */
  expireDue(nowMs: number, budget: number): number {
    let removed = 0
    while (removed < budget) {
      const next = this.ttl.peek()
      if (next === undefined || next.expiresAtMs > nowMs) break
      this.remove(next)
      removed++
    }
    return removed
  }

  nextDueMs(): number {
    return this.ttl.peek()?.expiresAtMs ?? Infinity
  }

  restoreEntry(entry: KvEntry): void {
    this.entries.set(entry.key, entry)
    if (entry.expiresAtMs !== 0) this.ttl.push(entry)
  }

  /** The entry if present and not expired; an expired one is removed on the way. */
  private live(key: string, nowMs: number): KvEntry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (!isExpired(entry, nowMs)) return entry
    this.remove(entry)
    return undefined
  }

  private setExpiry(entry: KvEntry, expiresAtMs: number): void {
    const wasTimed = entry.expiresAtMs !== 0
    entry.expiresAtMs = expiresAtMs
    if (expiresAtMs === 0) {
      if (wasTimed) this.ttl.remove(entry)
    } else if (wasTimed) this.ttl.update(entry)
    else this.ttl.push(entry)
  }

  private remove(entry: KvEntry): void {
    if (entry.expiresAtMs !== 0) this.ttl.remove(entry)
    this.entries.delete(entry.key)
  }
}

function checkIfVersion(current: KvEntry | undefined, ifVersion: number | undefined): MachineError | undefined {
  if (ifVersion === undefined) return undefined
  const currentVersion = current?.version ?? 0
  if (currentVersion === ifVersion) return undefined
  return machineError('CONFLICT', `ifVersion ${ifVersion} does not match the current version ${currentVersion} of the key`)
}
