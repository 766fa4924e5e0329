import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  defaultSimulationOptions,
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
} from '../../src/sim/simulation.js'
import type { NodeFaults } from '../../src/sim/sim-node.js'

const base = defaultSimulationOptions

function describeFailure(result: SimulationResult): string {
  return `seed ${result.seed}: ${result.failure?.code} ${result.failure?.message}\n${result.trace.slice(-40).join('\n')}`
}

t.test('300 seeds of a 3-node cluster under faults keep every invariant and linearizability', async (t) => {
  const totals = { completed: 0, unknown: 0, crashes: 0, partitions: 0, confChanges: 0, transfers: 0, committed: 0 }
  const failures: string[] = []
  for (let seed = 1; seed <= 300; seed++) {
    const result = runSimulation({ ...base, seed })
    if (!result.ok) failures.push(describeFailure(result))
    totals.completed += result.stats.completed
    totals.unknown += result.stats.unknown
    totals.crashes += result.stats.crashes
    totals.partitions += result.stats.partitions
    totals.confChanges += result.stats.confChanges
    totals.transfers += result.stats.transfers
    totals.committed += result.stats.committedIndex
  }
  t.same(failures, [], 'no seed fails')
  // The runs did real work under real faults, or passing would mean little.
  t.ok(totals.completed > 300 * 100, `${totals.completed} operations completed`)
  t.ok(totals.unknown > 0, `${totals.unknown} operations with unknown outcome`)
  t.ok(totals.committed > 300 * 80, `${totals.committed} entries committed`)
  for (const kind of ['crashes', 'partitions', 'confChanges', 'transfers'] as const) {
    t.ok(totals[kind] > 300, `${totals[kind]} ${kind}`)
  }
})

t.test('30 seeds of a 5-node cluster pass', async (t) => {
  const failures: string[] = []
  for (let seed = 5001; seed <= 5030; seed++) {
    const result = runSimulation({ ...base, initialVoters: 5, maxMembers: 7, vary: { ...base.vary, clusterSize: false }, seed })
    if (!result.ok) failures.push(describeFailure(result))
  }
  t.same(failures, [])
})

t.test('a seed replays identically; another seed differs', async (t) => {
  const first = runSimulation({ ...base, seed: 77 })
  const again = runSimulation({ ...base, seed: 77 })
  const other = runSimulation({ ...base, seed: 78 })
  t.equal(again.traceHash, first.traceHash)
  t.same(again.stats, first.stats)
  t.same(again.trace, first.trace)
  t.not(other.traceHash, first.traceHash)
})

// A simulator that cannot fail proves nothing: each deliberately broken
// configuration must be caught. The harsher faults make it quick.
function firstFailure(faults: Partial<NodeFaults>, seedsMax: number, extra: Partial<SimulationOptions> = {}): SimulationResult | undefined {
  const options: Omit<SimulationOptions, 'seed'> = {
    ...base,
    faults: { ...base.faults, diskLatencyMaxMs: 15, diskSlowRate: 0.5, diskSlowMaxMs: 80, faultGapMaxMs: 150 },
    node: { ...base.node, faults: { ...base.node.faults, ...faults } },
    vary: { faults: false, core: false, readOnly: true, clusterSize: false, workload: false },
    ...extra,
  }
  for (let seed = 1; seed <= seedsMax; seed++) {
    const result = runSimulation({ ...options, seed })
    if (!result.ok) return result
  }
  return undefined
}

t.test('stale reads from any node are caught by the linearizability check', async (t) => {
  const result = firstFailure({ staleReads: true }, 5, { client: { ...base.client, readsAnywhere: true } })
  t.equal(result?.failure?.code, 'LINEARIZABILITY')
  t.match(result?.failure?.message ?? '', /cannot place: #\d+ client \d+ .* get\(/)
  t.ok((result?.trace.length ?? 0) > 0, 'with the events around the operation')
  t.match(result?.traceTitle ?? '', /between/)
})

t.test('a storage that forgets the vote at a crash is caught', async (t) => {
  const result = firstFailure({ forgetVoteOnCrash: true }, 120)
  t.ok(result !== undefined, 'some seed fails')
  t.match(result?.failure?.code ?? '', /^(DOUBLE_VOTE|ELECTION_SAFETY)$/)
})

t.test('acknowledging before persisting is caught (committed entries die in crashes)', async (t) => {
  const result = firstFailure({ sendBeforePersist: true }, 120)
  t.ok(result !== undefined, 'some seed fails')
  t.match(result?.failure?.code ?? '', /^(LEADER_COMPLETENESS|COMMITTED_ENTRY_LOST|ELECTION_SAFETY|STATE_MACHINE_SAFETY|LINEARIZABILITY)$/)
})

const mainPath = fileURLToPath(new URL('../../src/sim/main.js', import.meta.url))

t.test('the CLI exits 0 with a summary when every seed passes', async (t) => {
  const run = spawnSync(process.execPath, [mainPath, '--seed', '3', '--runs', '3'], { encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  t.match(run.stdout.trim().split('\n').at(-1) ?? '', /^ok seeds=3\.\.5 failed=0 /)
})

t.test('the CLI prints FAIL seed=<n> and exits 1 when a seed fails', async (t) => {
  const run = spawnSync(process.execPath, [mainPath, '--seed', '1', '--break', 'stale-reads', '--trace-lines', '20'], { encoding: 'utf8' })
  t.equal(run.status, 1)
  t.match(run.stdout.split('\n')[0] ?? '', /^FAIL seed=1 LINEARIZABILITY: /)
  t.match(run.stdout, /replay all: npm run sim -- --seed 1 --verbose/)
})

t.test('the CLI refuses unknown options with exit 2', async (t) => {
  const run = spawnSync(process.execPath, [mainPath, '--bogus'], { encoding: 'utf8' })
  t.equal(run.status, 2)
  t.match(run.stderr, /unknown option --bogus/)
})
