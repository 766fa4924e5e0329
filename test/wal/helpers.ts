import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import type { LogEntry } from '../../src/wal/index.js'

/** A fresh directory under the OS temp dir, removed when the test ends. */
export async function tempDir(t: { teardown: (fn: () => Promise<void> | void) => void }, prefix = 'troupe-wal-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Deterministic payload for (shard, index, term): any torn or mixed-up record shows as a mismatch. */
export function payloadFor(shard: number, index: number, term: number, sizeBytes = 16 + ((shard * 31 + index * 7) % 97)): Buffer {
  const out = Buffer.alloc(sizeBytes)
  let block = Buffer.alloc(0)
  for (let offset = 0; offset < sizeBytes; offset += block.byteLength) {
    block = createHash('sha256').update(`${shard}/${index}/${term}/${offset}`).digest()
    block.copy(out, offset, 0, Math.min(block.byteLength, sizeBytes - offset))
  }
  return out
}

export function entry(shard: number, index: number, term: number, kind = 0): LogEntry {
  return { index, term, kind, payload: payloadFor(shard, index, term) }
}

export function entries(shard: number, fromIndex: number, count: number, term: number): LogEntry[] {
  return Array.from({ length: count }, (_, i) => entry(shard, fromIndex + i, term))
}
