// Seeded random faults on the in-memory network (message loss, reordering,
// partitions, crashes with restart, compaction) with the safety properties of
// the Raft paper (Figure 3) checked after every step. The deterministic
// simulator in src/sim/ goes much further; this is the core's own guard.
import t from 'tap'
import { createRng, type NodeId, type Rng } from '../../src/raft/index.js'
import { bytes, Network } from './network.js'

const SEEDS = 12
const STEPS_PER_SEED = 250
const IDS: NodeId[] = [1, 2, 3, 4, 5]
const LOSS_PERCENT = 15

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.nextInt(items.length)]!
}

/** State machine safety: every node's applied sequence is a prefix of the longest one. */
function checkAppliedPrefixes(net: Network): string | undefined {
  let longest: string[] = []
  for (const tn of net.nodes.values()) if (tn.applied.length > longest.length) longest = tn.applied
  for (const tn of net.nodes.values()) {
    for (let i = 0; i < tn.applied.length; i++) {
      if (tn.applied[i] !== longest[i]) return `node ${tn.id} applied ${tn.applied[i]} at position ${i}, another node ${longest[i]}`
    }
  }
  return undefined
}

interface SeedStats {
  terms: number
  applied: number
  snapshotsInstalled: number
}

/**
 * Log matching on committed entries and leader completeness: the term of a
 * committed index never changes on any node, and every leader holds every
 * entry committed anywhere (the part it has not compacted).
 */
function checkCommittedEntries(net: Network, committedTerms: Map<number, number>): string | undefined {
  for (const tn of net.nodes.values()) {
    const log = tn.node.raft.log
    for (let i = Math.max(1, log.firstIndex() - 1); i <= log.committed; i++) {
      const term = log.termOrZero(i)
      const known = committedTerms.get(i)
      if (known === undefined) committedTerms.set(i, term)
      else if (known !== term) return `node ${tn.id} has term ${term} at committed index ${i}, committed elsewhere with term ${known}`
    }
  }
  for (const tn of net.nodes.values()) {
    const r = tn.node.raft
    if (r.role !== 'leader') continue
    for (const [index, term] of committedTerms) {
      if (index < r.log.firstIndex()) continue
      if (r.log.termOrZero(index) !== term) return `leader ${tn.id} (term ${r.term}) lacks committed entry ${index} of term ${term}`
    }
  }
  return undefined
}

function runSeed(seed: number, stats: SeedStats): string | undefined {
  const committedTerms = new Map<number, number>()
  const rng = createRng(seed)
  const net = new Network(IDS, { snapshotChunkBytes: 64, maxInflightMsgs: 8 })
  const leaderOfTerm = new Map<number, NodeId>()
  let proposed = 0
  for (let step = 0; step < STEPS_PER_SEED; step++) {
    const action = rng.nextInt(100)
    if (action < 30) {
      const leaders = net.leaders()
      if (leaders.length > 0) net.get(pick(rng, leaders)).node.propose(bytes(`s${seed}-${proposed++}`))
    } else if (action < 38) {
      const side = IDS.filter(() => rng.nextInt(2) === 0)
      net.partition(side, IDS.filter((id) => !side.includes(id)))
    } else if (action < 43) {
      net.heal()
    } else if (action < 48) {
      net.restart(pick(rng, IDS))
    } else if (action < 52) {
      const tn = net.get(pick(rng, IDS))
      if (tn.appliedIndex > tn.storage.firstIndex()) net.compact(tn.id)
    } else if (action < 55) {
      const id = pick(rng, IDS)
      const target = pick(rng, IDS)
      net.get(id).node.transferLeadership(target)
    } else {
      for (const tn of net.nodes.values()) tn.node.tick()
    }
    // Deliver with loss and reordering, bounded rounds.
    for (let round = 0; round < 4; round++) {
      for (const id of IDS) net.processReady(id)
      const batch = net.inFlight.filter(() => rng.nextInt(100) >= LOSS_PERCENT)
      for (let i = batch.length - 1; i > 0; i--) {
        if (rng.nextInt(100) < 20) {
          const j = rng.nextInt(i + 1)
          const tmp = batch[i]!
          batch[i] = batch[j]!
          batch[j] = tmp
        }
      }
      net.inFlight = batch
      net.deliverOnce()
    }
    for (const tn of net.nodes.values()) {
      const r = tn.node.raft
      if (r.role !== 'leader') continue
      const known = leaderOfTerm.get(r.term)
      if (known !== undefined && known !== tn.id) return `election safety: ${known} and ${tn.id} both led term ${r.term}`
      leaderOfTerm.set(r.term, tn.id)
    }
    const prefixError = checkAppliedPrefixes(net)
    if (prefixError !== undefined) return `state machine safety at step ${step}: ${prefixError}`
    const committedError = checkCommittedEntries(net, committedTerms)
    if (committedError !== undefined) return `committed entries at step ${step}: ${committedError}`
  }
  // Liveness once the faults stop: one leader, and a new entry reaches everyone.
  net.heal()
  net.tickAll(60)
  const leaders = net.leaders()
  if (leaders.length !== 1) return `after healing: leaders ${JSON.stringify(leaders)}`
  net.propose(leaders[0]!, `s${seed}-final`)
  net.tickAll(3)
  stats.terms = leaderOfTerm.size
  stats.applied = net.get(leaders[0]!).applied.length
  for (const tn of net.nodes.values()) stats.snapshotsInstalled += tn.restoredSnapshots.length
  for (const tn of net.nodes.values()) {
    if (tn.applied.at(-1) !== `s${seed}-final`) return `after healing: node ${tn.id} last applied ${tn.applied.at(-1)}`
  }
  return checkAppliedPrefixes(net)
}

t.test('safety under random loss, reordering, partitions, restarts and compaction; liveness after healing', async (t) => {
  const total: SeedStats = { terms: 0, applied: 0, snapshotsInstalled: 0 }
  for (let seed = 1; seed <= SEEDS; seed++) {
    const stats: SeedStats = { terms: 0, applied: 0, snapshotsInstalled: 0 }
    let failure: string | undefined
    try {
      failure = runSeed(seed, stats)
    } catch (err) {
      failure = `threw: ${err instanceof Error ? err.message : String(err)}`
    }
    t.equal(failure, undefined, `seed ${seed}: ${failure ?? "safe"}`)
    total.terms += stats.terms
    total.applied += stats.applied
    total.snapshotsInstalled += stats.snapshotsInstalled
  }
  t.comment(`over ${SEEDS} seeds: ${total.terms} terms with a leader, ${total.applied} entries applied, ${total.snapshotsInstalled} snapshots installed`)
  // The faults must actually exercise elections, replication and snapshots.
  t.ok(total.terms > SEEDS * 2, 'leadership changed')
  t.ok(total.applied > SEEDS * 10, 'entries were committed')
  t.ok(total.snapshotsInstalled > 0, 'snapshots were installed')
})
