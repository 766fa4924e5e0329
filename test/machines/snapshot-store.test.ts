// The machine's snapshot saved and loaded through the storage layer (the
// WAL's snapshot store), compressed and not, then continued.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ShardMachine } from '../../src/machines/index.js'
import { SnapshotStore } from '../../src/wal/index.js'
import { Harness, bytes, text } from './helpers/harness.js'

t.test('a snapshot saved through the snapshot store restores a machine that continues as the original', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-machines-'))
  const store = new SnapshotStore({ dir })
  t.teardown(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })
  const h = new Harness(new ShardMachine(3))
  h.createQueue('q', { visibilityTimeoutMs: 500, maxReceives: 2, deadLetterQueue: 'dlq' })
  h.ok({ type: 'queue.send', queue: 'q', messages: Array.from({ length: 200 }, (_, i) => ({ body: bytes(`m${i}`), priority: i % 10, dedupId: `d${i}` })) })
  const inFlight = h.receive('q', 50)
  h.ok({ type: 'kv.put', key: 'config', value: bytes('{"a":1}'), ttlMs: 60_000 })

  for (const compress of [false, true]) {
    await store.save({ shard: 3, index: h.machine.lastAppliedIndex, term: 7 }, h.machine.snapshot(), { compress })
    const loaded = await store.load(3)
    t.ok(loaded, `loaded (compress=${compress})`)
    t.equal(loaded!.index, h.machine.lastAppliedIndex)
    const restored = new Harness(ShardMachine.restore(loaded!.payload))
    restored.nowMs = h.nowMs
    t.same(restored.machine.queueStats('q'), h.machine.queueStats('q'))
    t.equal(text(restored.machine.kvGet('config', h.nowMs)!.value), '{"a":1}')
    const acked = restored.ok({ type: 'queue.ack', queue: 'q', receipts: inFlight.slice(0, 10).map((m) => m.receipt) })
    t.same(acked, { acked: 10, missing: [] }, 'receipts issued before the snapshot stay valid')
    t.same(restored.ok({ type: 'queue.send', queue: 'q', messages: [{ body: bytes('again'), dedupId: 'd5' }] }).duplicates, 1, 'dedup survives')
  }
})
