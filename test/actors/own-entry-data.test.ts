// Entries that arrive sharing one large frame buffer get buffers of their own,
// so that a message a queue keeps does not hold the whole frame.
import t from 'tap'
import { ownEntryData } from '../../actors/shard-replica.js'
import type { Entry } from '../../src/raft/index.js'

function entry(index: number, data: Uint8Array): Entry {
  return { term: 1, index, type: 'normal', data }
}

t.test('entries cut from one large buffer are copied out; an entry about the size of its buffer is left as it is', async (t) => {
  const frame = new Uint8Array(1024 * 1024)
  for (let i = 0; i < frame.length; i++) frame[i] = i % 251
  const shared = Array.from({ length: 100 }, (_, i) => entry(i + 1, frame.subarray(i * 10_000, i * 10_000 + 200)))
  const alone = new Uint8Array(10_000).fill(3)
  const nearlyAlone = entry(101, alone.subarray(0, 9_000))
  const entries = [...shared, nearlyAlone]
  const before = entries.map((e) => Array.from(e.data))
  ownEntryData(entries)
  t.ok(shared.every((e) => e.data.buffer !== frame.buffer && e.data.buffer.byteLength === 200), 'each shared entry has a 200-byte buffer of its own')
  t.equal(nearlyAlone.data.buffer, alone.buffer, 'an entry filling most of its buffer is not copied')
  t.ok(entries.every((e, i) => e.data.length === before[i]!.length && e.data.every((b, j) => b === before[i]![j])), 'the bytes are unchanged')
})
