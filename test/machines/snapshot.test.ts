import t from 'tap'
import { ShardMachine } from '../../src/machines/index.js'
import { SLAB_BODY_BYTES_MAX, SLAB_CHUNK_BYTES } from '../../src/machines/body-slab.js'
import { Harness } from './helpers/harness.js'

t.test('equal states give equal snapshot bytes whatever order led to them', async (t) => {
  const a = new Harness()
  const b = new Harness()
  a.createQueue('beta')
  b.createQueue('alpha', { maxReceives: 2 })
  a.createQueue('alpha', { maxReceives: 2 })
  b.createQueue('beta')
  a.ok({ type: 'kv.put', key: 'y', value: new Uint8Array([1]) })
  b.ok({ type: 'kv.put', key: 'y', value: new Uint8Array([1]) })
  t.ok(Buffer.from(a.machine.snapshot()).equals(Buffer.from(b.machine.snapshot())))
})

t.test('bodies of every size survive a snapshot, small ones sharing chunks and large ones alone', async (t) => {
  const h = new Harness()
  h.createQueue('q')
  const sizes = [0, 1, 63, SLAB_BODY_BYTES_MAX, SLAB_BODY_BYTES_MAX + 1, SLAB_CHUNK_BYTES - 1, 200_000]
  const bodies = sizes.map((size, i) => new Uint8Array(size).map((_, at) => (at * 31 + i) & 0xff))
  h.ok({ type: 'queue.send', queue: 'q', messages: bodies.map((body) => ({ body })) })
  h.ok({ type: 'kv.put', key: 'k', value: bodies[3]! })
  const restored = new Harness(ShardMachine.restore(h.machine.snapshot()))
  const received = restored.receive('q')
  t.same(received.map((m) => Buffer.from(m.body).toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')))
  t.equal(received[1]!.body.buffer, received[2]!.body.buffer, 'small bodies share a chunk')
  t.not(received[4]!.body.buffer, received[5]!.body.buffer, 'large bodies have their own buffers')
  t.same(Buffer.from(restored.machine.kvGet('k', restored.nowMs)!.value), Buffer.from(bodies[3]!))
})

t.test('a snapshot of another format version is refused', async (t) => {
  const bytes = Buffer.from(new ShardMachine(1).snapshot())
  t.equal(bytes[1], 2, 'the version is the first element')
  bytes[1] = 1
  t.throws(() => ShardMachine.restore(bytes), /format 1/)
})

t.test('a snapshot taken as parts is valid msgpack in the canonical form, and later applies do not change it', async (t) => {
  const { Packr, Unpackr } = await import('msgpackr')
  const { assembleParts, concatParts } = await import('../../src/machines/index.js')
  const h = new Harness()
  // 20 queues (an array16 header), bodies of every header size, an empty one.
  for (let q = 0; q < 20; q++) h.createQueue(`q-${String(q).padStart(2, '0')}`)
  const sizes = [0, 1, 255, 256, 65_535, 65_536, 300]
  h.ok({ type: 'queue.send', queue: 'q-00', messages: sizes.map((size) => ({ body: new Uint8Array(size).fill(size & 0xff) })) })
  h.ok({ type: 'queue.send', queue: 'q-01', messages: Array.from({ length: 300 }, (_, i) => ({ body: new Uint8Array([i & 0xff]), dedupId: `d-${i}` })) })
  h.ok({ type: 'kv.put', key: 'k', value: new Uint8Array([9, 9]) })
  const parts = h.machine.snapshotParts()
  const whole = h.machine.snapshot()
  // Re-encoding the decoded structure with msgpackr gives the same bytes: the hand-made headers are msgpackr's.
  const reencoded = new Packr({ useRecords: false }).pack(new Unpackr({ useRecords: false }).unpack(whole))
  t.ok(Buffer.from(reencoded).equals(Buffer.from(whole)), 'the same bytes as msgpackr would write')
  t.ok(Buffer.from(concatParts(parts)).equals(Buffer.from(whole)))

  // Applies after the parts were taken leave them as they were.
  h.receive('q-00')
  h.ok({ type: 'queue.purge', queue: 'q-01' })
  h.ok({ type: 'queue.send', queue: 'q-02', messages: [{ body: new Uint8Array([1]) }] })
  const sliced = await assembleParts([parts], 1_000)
  t.ok(Buffer.from(sliced).equals(Buffer.from(whole)), 'joined in slices, after more applies: the snapshot of when it was taken')
  t.notOk(Buffer.from(h.machine.snapshot()).equals(Buffer.from(whole)), 'while the machine itself moved on')
  const restored = ShardMachine.restore(sliced)
  t.equal(restored.queueStats('q-01')!.visible, 300)
})

t.test('restoring in slices gives the same machine as restoring at once, and lets other work run meanwhile', async (t) => {
  const h = new Harness()
  h.createQueue('big')
  const body = new Uint8Array([1, 2, 3])
  for (let i = 0; i < 50; i++) h.ok({ type: 'queue.send', queue: 'big', messages: Array.from({ length: 1000 }, () => ({ body })) })
  h.receive('big', 10)
  h.ok({ type: 'kv.put', key: 'k', value: new Uint8Array([7]) })
  const bytes = h.machine.snapshot()
  let turns = 0
  const counting = setInterval(() => turns++, 0)
  const sliced = await ShardMachine.restoreInSlices(bytes)
  clearInterval(counting)
  t.ok(Buffer.from(sliced.snapshot()).equals(Buffer.from(ShardMachine.restore(bytes).snapshot())), 'the same state')
  t.ok(Buffer.from(sliced.snapshot()).equals(Buffer.from(bytes)))
  t.ok(turns >= 1, `timers ran while 50,000 messages were restored (${turns})`)
})
