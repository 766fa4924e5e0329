import t from 'tap'
import { MemoryStorage } from '../../src/raft/memory-storage.js'
import type { Entry } from '../../src/raft/types.js'
import { SafetyChecker } from '../../src/sim/invariants.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const entry = (index: number, term: number, data = `e${index}t${term}`): Entry => ({ index, term, type: 'normal', data: bytes(data) })

t.test('election safety: a second leader in one term is caught', async (t) => {
  const c = new SafetyChecker()
  c.observeLeader(1, 3)
  c.observeLeader(1, 3)
  c.observeLeader(2, 4)
  t.throws(() => c.observeLeader(3, 3), { code: 'ELECTION_SAFETY' })
})

t.test('log matching: one (index, term) holds one entry after one term', async (t) => {
  const c = new SafetyChecker()
  c.observePersistedEntries(1, [entry(2, 1), entry(3, 1)], 1, 0)
  c.observePersistedEntries(2, [entry(2, 1), entry(3, 1)], 1, 0)
  t.throws(() => c.observePersistedEntries(3, [entry(3, 1, 'other')], 1, 0), { code: 'LOG_MATCHING' })
  t.throws(() => c.observePersistedEntries(3, [entry(3, 1)], 2, 0), { code: 'LOG_MATCHING' }, 'same entry after a different term')
})

t.test('committed entries: a node may not overwrite its own committed prefix', async (t) => {
  const c = new SafetyChecker()
  c.observeCommittedEntries(1, [entry(2, 1), entry(3, 1)], 1)
  // Above its own commit index a lagging node may hold an entry a stale leader sent.
  t.doesNotThrow(() => c.observePersistedEntries(2, [entry(3, 2, 'stale leader')], 1, 2))
  t.throws(() => c.observePersistedEntries(3, [entry(3, 2, 'stale leader')], 1, 3), { code: 'COMMITTED_ENTRY_LOST' })
})

t.test('state-machine safety: different entries or results at one index are caught', async (t) => {
  const c = new SafetyChecker()
  c.observeCommittedEntries(1, [entry(2, 1)], 1)
  t.throws(() => c.observeCommittedEntries(2, [entry(2, 1, 'other')], 1), { code: 'STATE_MACHINE_SAFETY' })
  c.observeApplied(1, 2, 'put v2')
  c.observeApplied(2, 2, 'put v2')
  t.throws(() => c.observeApplied(3, 2, 'put v9'), { code: 'STATE_MACHINE_SAFETY' })
})

t.test('durable state: one vote per term, no term or commit going back', async (t) => {
  const c = new SafetyChecker()
  c.observeDurableHardState(1, { term: 2, vote: 3, commit: 5 }, 'persist')
  c.observeDurableHardState(1, { term: 2, vote: 3, commit: 6 }, 'persist')
  t.throws(() => c.observeDurableHardState(1, { term: 2, vote: 2, commit: 6 }, 'persist'), { code: 'DOUBLE_VOTE' })
  const d = new SafetyChecker()
  d.observeDurableHardState(1, { term: 4, vote: 0, commit: 5 }, 'persist')
  t.throws(() => d.observeDurableHardState(1, { term: 3, vote: 0, commit: 5 }, 'restart'), { code: 'TERM_REGRESSION' })
  t.throws(() => d.observeDurableHardState(1, { term: 4, vote: 0, commit: 4 }, 'restart'), { code: 'COMMITTED_ENTRY_LOST' })
})

function storageWith(entries: Entry[]): MemoryStorage {
  const storage = MemoryStorage.bootstrap({ voters: [1, 2, 3], learners: [] })
  storage.append(entries)
  return storage
}

t.test('leader completeness: a leader must hold what earlier terms committed', async (t) => {
  const c = new SafetyChecker()
  c.observeCommittedEntries(1, [entry(2, 1), entry(3, 1)], 1)
  t.doesNotThrow(() => c.checkLeaderCompleteness(2, 2, storageWith([entry(2, 1), entry(3, 1), entry(4, 2)])))
  t.throws(() => c.checkLeaderCompleteness(3, 2, storageWith([entry(2, 1)])), { code: 'LEADER_COMPLETENESS' })
  t.throws(() => c.checkLeaderCompleteness(3, 2, storageWith([entry(2, 1), entry(3, 2, 'x')])), { code: 'LEADER_COMPLETENESS' })
  // Entries committed in the leader's own term or later are not required.
  c.observeCommittedEntries(2, [entry(4, 2)], 2)
  t.doesNotThrow(() => c.checkLeaderCompleteness(3, 2, storageWith([entry(2, 1), entry(3, 1)])))
})

t.test('a restarting node must hold the committed entries up to its commit index', async (t) => {
  const c = new SafetyChecker()
  c.observeCommittedEntries(1, [entry(2, 1), entry(3, 1)], 1)
  t.doesNotThrow(() => c.checkDurableLog(2, storageWith([entry(2, 1), entry(3, 1)]), 3))
  t.throws(() => c.checkDurableLog(2, storageWith([entry(2, 1), entry(3, 1, 'x')]), 3), { code: 'COMMITTED_ENTRY_LOST' })
  t.throws(() => c.checkDurableLog(2, storageWith([entry(2, 1)]), 3), { code: 'COMMITTED_ENTRY_LOST' })
})
