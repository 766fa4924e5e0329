// Ready.sendFirst: only a leader's Ready that carries no snapshot and keeps
// the term and vote may send its messages before it is persisted.
import t from 'tap'
import { MemoryStorage, RawNode, createRng, type Ready } from '../../src/raft/index.js'

/** Persists a Ready into MemoryStorage and advances, as an application would. */
function handle(node: RawNode, storage: MemoryStorage): Ready {
  const rd = node.ready()
  if (rd.snapshot) storage.applySnapshot(rd.snapshot)
  storage.append(rd.entries)
  if (rd.hardState) storage.setHardState(rd.hardState)
  node.advance()
  return rd
}

t.test('a candidate persists first; the leader it becomes may send first', async (t) => {
  const storage = MemoryStorage.bootstrap({ voters: [1, 2, 3], learners: [] })
  const node = new RawNode({ id: 1, storage, rng: createRng(1), preVote: false })
  node.campaign()
  const campaign = handle(node, storage)
  t.ok(campaign.messages.some((m) => m.type === 'vote'), 'vote requests')
  t.equal(campaign.sendFirst, false, 'a new term and a vote must be durable before the requests go')
  node.step({ type: 'voteResp', from: 2, to: 1, term: node.status().term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 })
  const elected = handle(node, storage)
  t.equal(node.status().role, 'leader')
  t.equal(elected.sendFirst, true, "the leader's first appends keep the persisted term and vote")
  const { term, lastIndex } = node.status()
  for (const from of [2, 3]) node.step({ type: 'appResp', from, to: 1, term, logTerm: 0, index: lastIndex, entries: [], commit: 0, reject: false, rejectHint: 0 })
  handle(node, storage)
  node.propose(new Uint8Array([1]))
  const proposal = handle(node, storage)
  t.ok(proposal.entries.length === 1 && proposal.messages.length === 2, 'the entry, and an append per follower')
  t.equal(proposal.sendFirst, true)
})

t.test("a follower's Ready never sends first", async (t) => {
  const storage = MemoryStorage.bootstrap({ voters: [1, 2, 3], learners: [] })
  const node = new RawNode({ id: 2, storage, rng: createRng(2), preVote: false })
  node.step({ type: 'app', from: 1, to: 2, term: 2, logTerm: 1, index: 1, entries: [{ term: 2, index: 2, type: 'normal', data: new Uint8Array([7]) }], commit: 1, reject: false, rejectHint: 0 })
  const rd = handle(node, storage)
  t.ok(rd.messages.some((m) => m.type === 'appResp'), 'an acknowledgement of the entry')
  t.equal(rd.sendFirst, false, 'it promises durability, so it goes after the write')
})
