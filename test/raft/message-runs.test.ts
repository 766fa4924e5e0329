// splitMessagesBySize: runs of Raft messages for transports with bounded frames.
import t from 'tap'
import { ENTRY_OVERHEAD_BYTES, messageSizeBytes, splitMessagesBySize, type Message } from '../../src/raft/index.js'

function message(to: number, entryBytes: number[], snapshotBytes?: number): Message {
  return {
    type: snapshotBytes === undefined ? 'app' : 'snap',
    from: 1,
    to,
    term: 1,
    logTerm: 1,
    index: 0,
    entries: entryBytes.map((size, i) => ({ index: i + 1, term: 1, type: 'normal' as const, data: new Uint8Array(size) })),
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...(snapshotBytes === undefined
      ? {}
      : { snapshot: { metadata: { index: 1, term: 1, confState: { voters: [1], learners: [] } }, offsetBytes: 0, totalBytes: snapshotBytes, data: new Uint8Array(snapshotBytes) } }),
  }
}

t.test('a message counts its entries with their overhead and its snapshot chunk', async (t) => {
  t.equal(messageSizeBytes(message(2, [])), 0)
  t.equal(messageSizeBytes(message(2, [10, 20])), 30 + 2 * ENTRY_OVERHEAD_BYTES)
  t.equal(messageSizeBytes(message(2, [], 500)), 500)
})

t.test('messages within the bound stay one run, the same array', async (t) => {
  const messages = [message(2, [100]), message(3, [100])]
  const runs = splitMessagesBySize(messages, 1000)
  t.equal(runs.length, 1)
  t.equal(runs[0], messages)
  t.same(splitMessagesBySize([], 1000), [])
})

t.test('larger ones are cut into runs in order, each within the bound unless one message alone is larger', async (t) => {
  const bound = 1000
  const sizes = [400, 400, 400, 1500, 100, 900, 50]
  const messages = sizes.map((size, i) => message(i + 2, [size - ENTRY_OVERHEAD_BYTES]))
  const runs = splitMessagesBySize(messages, bound)
  t.same(
    runs.map((run) => run.map((m) => m.to)),
    [[2, 3], [4], [5], [6, 7], [8]],
  )
  t.same(runs.flat(), messages, 'nothing lost, nothing reordered')
  for (const run of runs) {
    const size = run.reduce((sum, m) => sum + messageSizeBytes(m), 0)
    t.ok(size <= bound || run.length === 1, `run of ${run.length} is ${size} bytes`)
  }
})
