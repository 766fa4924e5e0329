// Log compaction and InstallSnapshot in chunks (Raft paper §7).
import t from 'tap'
import { MemoryStorage, type Message } from '../../src/raft/index.js'
import { bytes, Network } from './network.js'
import { msg, newRaft, readMessages } from './helpers.js'

/** A 3-node cluster where node 3 missed entries that the leader then compacted away. */
function laggingFollower(chunkBytes: number): Network {
  const net = new Network([1, 2, 3], { snapshotChunkBytes: chunkBytes })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 10; i++) net.propose(1, `v${i}`)
  net.compact(1)
  net.heal()
  return net
}

t.test('§7 a follower that needs compacted entries receives the snapshot in chunks and catches up', async (t) => {
  const net = laggingFollower(16)
  net.tickAll(1)
  net.propose(1, 'after')
  const snapSize = net.get(1).storage.snapshot().data.byteLength
  const chunks = net.sentLog.filter((m) => m.type === 'snap' && m.to === 3)
  t.equal(chunks.length, Math.ceil(snapSize / 16), `${snapSize} bytes in 16-byte chunks`)
  t.ok(chunks.every((m) => m.snapshot!.data.byteLength <= 16))
  t.equal(net.get(3).restoredSnapshots.length, 1)
  t.same(net.get(3).applied, net.get(1).applied)
  t.equal(net.get(3).applied.at(-1), 'after', 'replication continues after the snapshot')
  t.equal(net.get(1).node.status().progress.get(3)?.state, 'replicate')
})

t.test('§7 a lost chunk is sent again', async (t) => {
  const net = laggingFollower(16)
  let dropped = 0
  // Drop the second chunk once.
  const original = net.deliverOnce.bind(net)
  net.deliverOnce = (filter?: (m: Message) => boolean) => {
    net.inFlight = net.inFlight.filter((m) => {
      if (dropped === 0 && m.type === 'snap' && m.snapshot!.offsetBytes === 16) {
        dropped++
        return false
      }
      return true
    })
    return original(filter)
  }
  net.tickAll(5)
  t.equal(dropped, 1)
  t.equal(net.get(3).restoredSnapshots.length, 1)
  t.same(net.get(3).applied, net.get(1).applied)
})

t.test('§7 a follower restarted in the middle of a transfer gets the whole snapshot again', async (t) => {
  const net = laggingFollower(8)
  net.tick(1) // heartbeats: node 3 answers, the leader starts the transfer
  for (let i = 0; i < 8; i++) {
    for (const id of [1, 2, 3]) net.processReady(id)
    net.deliverOnce()
  }
  t.ok(net.sentLog.some((m) => m.type === 'snap' && m.snapshot!.offsetBytes > 0), 'some chunks arrived')
  t.equal(net.get(3).restoredSnapshots.length, 0, 'transfer still under way')
  net.restart(3)
  net.tickAll(20)
  t.same(net.get(3).applied, net.get(1).applied)
  t.ok(net.sentLog.some((m) => m.type === 'snapResp' && m.reject), 'the follower asked for a restart')
})

t.test('§7 chunks of a transfer from an old term are dropped; a new leader\'s chunk for an unknown transfer is refused', async (t) => {
  const r = newRaft(3, [1, 2, 3])
  const metadata = { index: 20, term: 2, confState: { voters: [1, 2, 3], learners: [] } }
  const chunk = (from: number, term: number, offsetBytes: number): Message =>
    msg({ type: 'snap', from, to: 3, term, snapshot: { metadata, offsetBytes, totalBytes: 8, data: new Uint8Array(4) } })
  r.step(chunk(1, 2, 0))
  t.same(
    readMessages(r).map((m) => [m.type, m.rejectHint, m.reject]),
    [['snapResp', 4, false]],
  )
  // Node 2 becomes leader in term 3.
  r.step(msg({ type: 'heartbeat', from: 2, to: 3, term: 3 }))
  readMessages(r)
  r.step(chunk(1, 2, 4))
  t.equal(r.log.lastIndex(), 0, 'the old leader\'s last chunk did not complete the snapshot')
  r.step(chunk(2, 3, 4))
  t.same(
    readMessages(r).map((m) => [m.type, m.rejectHint, m.reject]),
    [['snapResp', 0, true]],
    'a chunk for a transfer we do not hold asks for a restart',
  )
  r.step(chunk(2, 3, 0))
  r.step(chunk(2, 3, 4))
  t.equal(r.log.lastIndex(), 20, 'a complete transfer installs the snapshot')
  t.equal(r.log.committed, 20)
  t.same(
    readMessages(r).map((m) => [m.type, m.index]),
    [
      ['snapResp', 20],
      ['appResp', 20],
    ],
  )
})

t.test('§7 a stalled transfer is given up and started again', async (t) => {
  const events: string[] = []
  const logger = { debug: (message: string) => events.push(message), warn: (message: string) => events.push(message) }
  const net = new Network([1, 2, 3], { snapshotChunkBytes: 16, logger })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 10; i++) net.propose(1, `v${i}`)
  net.compact(1)
  net.heal()
  net.dropType('snapResp')
  net.tickAll(1)
  t.equal(net.get(1).node.status().progress.get(3)?.state, 'snapshot')
  net.tickAll(25)
  t.ok(events.some((e) => e.includes('snapshot transfer stalled')), 'the silent transfer was given up')
  t.equal(net.get(3).restoredSnapshots.length, 0, 'without acknowledgements the transfer cannot advance')
  net.allowType('snapResp')
  net.tickAll(5)
  t.equal(net.get(3).restoredSnapshots.length, 1)
  t.equal(net.get(1).node.status().progress.get(3)?.state, 'replicate')
  t.same(net.get(3).applied, net.get(1).applied)
})

t.test('a snapshot older than the commit index is not installed', async (t) => {
  const r = newRaft(3, [1, 2, 3])
  r.step(msg({ type: 'app', from: 1, to: 3, term: 2, index: 0, logTerm: 0, commit: 2, entries: [
    { term: 2, index: 1, type: 'normal', data: bytes('a') },
    { term: 2, index: 2, type: 'normal', data: bytes('b') },
  ] }))
  readMessages(r)
  const metadata = { index: 1, term: 2, confState: { voters: [1, 2, 3], learners: [] } }
  r.step(msg({ type: 'snap', from: 1, to: 3, term: 2, snapshot: { metadata, offsetBytes: 0, totalBytes: 0, data: new Uint8Array(0) } }))
  t.equal(r.log.unstable.snapshot, undefined)
  t.same(
    readMessages(r).map((m) => [m.type, m.index]),
    [['appResp', 2]],
  )
})

t.test('MemoryStorage: compaction, snapshots and appends keep the log contiguous', async (t) => {
  const s = MemoryStorage.bootstrap({ voters: [1], learners: [] })
  t.equal(s.firstIndex(), 2)
  t.equal(s.lastIndex(), 1)
  s.append([2, 3, 4, 5].map((index) => ({ term: 1, index, type: 'normal' as const, data: bytes(`e${index}`) })))
  t.equal(s.lastIndex(), 5)
  s.append([{ term: 2, index: 4, type: 'normal', data: bytes('x') }])
  t.equal(s.lastIndex(), 4, 'a conflicting suffix is replaced')
  t.equal(s.term(4), 2)
  s.createSnapshot(3, bytes('state'))
  s.compact(3)
  t.equal(s.firstIndex(), 4)
  t.equal(s.term(3), 1, 'the term at the snapshot index stays known')
  t.throws(() => s.entries(3, 5, Infinity), { code: 'COMPACTED' })
  t.throws(() => s.term(2), { code: 'COMPACTED' })
  t.throws(() => s.entries(4, 6, Infinity), { code: 'UNAVAILABLE' })
  t.same(s.entries(4, 5, 1).map((e) => e.index), [4], 'at least one entry whatever the size limit')
  t.throws(() => s.append([{ term: 2, index: 9, type: 'normal', data: bytes('gap') }]), { code: 'INVARIANT' })
  t.throws(() => s.applySnapshot(s.snapshot()), { code: 'SNAPSHOT_OUT_OF_DATE' })
})
