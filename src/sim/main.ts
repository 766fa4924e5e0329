// `npm run sim -- --seed S --runs R [options]` (CONTRACT §7): runs seeds
// S..S+R-1, prints `FAIL seed=<n> <what>` and the last events of the first
// failing run and exits 1, or prints a summary and exits 0.
import { fileURLToPath } from 'node:url'
import { defaultSimulationOptions, runSimulation, type SimulationOptions, type SimulationResult } from './simulation.js'

const usage = `usage: npm run sim -- [options]

  --seed S            first seed (default 1)
  --runs R            number of seeds to run: S..S+R-1 (default 1)
  --nodes N           initial voters (default: 3 or 5, drawn per seed)
  --clients N         concurrent clients (default: 2 to 8, drawn per seed, as is the key count)
  --workload-ms MS    virtual time with faults (default ${defaultSimulationOptions.workloadMs})
  --quiet-ms MS       virtual time after faults stop (default ${defaultSimulationOptions.quietMs})
  --read-only MODE    safe | lease-based (default: drawn per seed)
  --drift R           clock drift: each node ticks at tickMs * (1 ± up to R);
                      fixes the fault rates too (no per-seed draw)
  --no-vary           the same fault rates, core settings and read mode for every seed
                      (default: each seed draws loss, duplication, latency,
                      disk speed, fault frequency, clock drift, election and
                      heartbeat ticks, flow-control limits, snapshot rate,
                      read mode, cluster size, clients and keys)
  --no-crashes, --no-partitions, --no-membership, --no-transfers
                      leave that kind of fault out
  --break MODE        inject a known bug to see it caught:
                      stale-reads | forget-vote | send-before-persist
  --no-liveness       check safety only (no progress or convergence check)
  --keep-going        run every seed even after a failure
  --verbose           print every event of each run (use with one seed)
  --trace-lines N     events shown after a failure (default ${defaultSimulationOptions.traceLines})
`

export interface SimCliOptions {
  firstSeed: number
  runs: number
  keepGoing: boolean
  simulation: Omit<SimulationOptions, 'seed'>
}

export class UsageError extends Error {
  readonly code = 'SIM_USAGE'
}

export function parseSimArgs(argv: readonly string[]): SimCliOptions {
  let firstSeed = 1
  let runs = 1
  let keepGoing = false
  const sim: Omit<SimulationOptions, 'seed'> = {
    ...defaultSimulationOptions,
    faults: { ...defaultSimulationOptions.faults },
    node: { ...defaultSimulationOptions.node, faults: { ...defaultSimulationOptions.node.faults } },
    client: { ...defaultSimulationOptions.client },
    vary: { ...defaultSimulationOptions.vary },
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`${arg} needs a value`)
      return v
    }
    const integer = (min: number): number => {
      const v = Number(value())
      if (!Number.isSafeInteger(v) || v < min) throw new UsageError(`${arg} must be an integer >= ${min}`)
      return v
    }
    switch (arg) {
      case '--seed':
        firstSeed = integer(0)
        break
      case '--runs':
        runs = integer(1)
        break
      case '--nodes':
        sim.initialVoters = integer(1)
        sim.vary = { ...sim.vary, clusterSize: false }
        sim.minVoters = Math.min(sim.minVoters, sim.initialVoters)
        sim.maxMembers = Math.max(sim.maxMembers, sim.initialVoters)
        break
      case '--clients':
        sim.clients = integer(1)
        sim.vary = { ...sim.vary, workload: false }
        break
      case '--workload-ms':
        sim.workloadMs = integer(100)
        break
      case '--quiet-ms':
        sim.quietMs = integer(1000)
        break
      case '--read-only': {
        const mode = value()
        if (mode !== 'safe' && mode !== 'lease-based') throw new UsageError('--read-only is safe or lease-based')
        sim.node.readOnly = mode
        sim.vary = { ...sim.vary, readOnly: false }
        break
      }
      case '--no-crashes':
        sim.faults.crashes = false
        break
      case '--no-partitions':
        sim.faults.partitions = false
        break
      case '--no-membership':
        sim.faults.membershipChanges = false
        break
      case '--no-transfers':
        sim.faults.leadershipTransfers = false
        break
      case '--break': {
        const mode = value()
        if (mode === 'stale-reads') {
          sim.node.faults.staleReads = true
          sim.client.readsAnywhere = true
        } else if (mode === 'forget-vote') sim.node.faults.forgetVoteOnCrash = true
        else if (mode === 'send-before-persist') sim.node.faults.sendBeforePersist = true
        else throw new UsageError('--break is stale-reads, forget-vote or send-before-persist')
        break
      }
      case '--drift': {
        const ratio = Number(value())
        if (!(ratio >= 0 && ratio < 1)) throw new UsageError('--drift is a ratio in [0, 1)')
        sim.tickDriftRatio = ratio
        sim.vary = { ...sim.vary, faults: false }
        break
      }
      case '--no-vary':
        sim.vary = { faults: false, core: false, readOnly: false, clusterSize: false, workload: false }
        break
      case '--no-liveness':
        sim.checkLiveness = false
        break
      case '--keep-going':
        keepGoing = true
        break
      case '--verbose':
        sim.echo = (line) => process.stdout.write(`${line}\n`)
        break
      case '--trace-lines':
        sim.traceLines = integer(1)
        break
      default:
        throw new UsageError(`unknown option ${arg}`)
    }
  }
  if (firstSeed + runs - 1 > Number.MAX_SAFE_INTEGER / 4096 / 8) throw new UsageError('seed too large')
  return { firstSeed, runs, keepGoing, simulation: sim }
}

export function formatFailure(result: SimulationResult): string {
  const failure = result.failure
  if (failure === undefined) return ''
  const [first, ...rest] = failure.message.split('\n')
  const lines = [`FAIL seed=${result.seed} ${failure.code}: ${first}`, ...rest.map((l) => `  ${l}`)]
  lines.push(`${result.traceTitle} of seed ${result.seed} (replay all: npm run sim -- --seed ${result.seed} --verbose):`)
  for (const line of result.trace) lines.push(`  ${line}`)
  return lines.join('\n')
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: SimCliOptions
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(usage)
      return 0
    }
    options = parseSimArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sim: ${err.message}\n\n${usage}`)
      return 2
    }
    throw err
  }
  const { firstSeed, runs } = options
  const startedMs = performance.now()
  const progressEvery = Math.max(1, Math.ceil(runs / 10))
  const totals = {
    operations: 0,
    completed: 0,
    unknown: 0,
    events: 0,
    crashes: 0,
    partitions: 0,
    confChanges: 0,
    transfers: 0,
    leaderTerms: 0,
    snapshotChunks: 0,
  }
  const failed: number[] = []
  for (let seed = firstSeed; seed < firstSeed + runs; seed++) {
    const result = runSimulation({ ...options.simulation, seed })
    const s = result.stats
    totals.operations += s.operations
    totals.completed += s.completed
    totals.unknown += s.unknown
    totals.events += s.events
    totals.crashes += s.crashes
    totals.partitions += s.partitions
    totals.confChanges += s.confChanges
    totals.transfers += s.transfers
    totals.leaderTerms += s.leaderTerms
    totals.snapshotChunks += s.snapshotChunksSent
    if (!result.ok) {
      failed.push(seed)
      process.stdout.write(`${formatFailure(result)}\n`)
      if (!options.keepGoing) break
    }
    const done = seed - firstSeed + 1
    if (runs > 1 && (done % progressEvery === 0 || done === runs)) {
      const seconds = ((performance.now() - startedMs) / 1000).toFixed(1)
      process.stderr.write(`sim: ${done}/${runs} seeds, ${failed.length} failed, ${seconds}s\n`)
    }
    if (runs === 1) {
      process.stdout.write(
        `seed=${seed} ${result.ok ? 'ok' : 'FAIL'} hash=${result.traceHash} events=${s.events} ops=${s.operations} ` +
          `completed=${s.completed} unknown=${s.unknown} committed=${s.committedIndex} crashes=${s.crashes} ` +
          `partitions=${s.partitions} confChanges=${s.confChanges} transfers=${s.transfers} leaderTerms=${s.leaderTerms} ` +
          `snapshotChunks=${s.snapshotChunksSent}\n`,
      )
    }
  }
  const seconds = ((performance.now() - startedMs) / 1000).toFixed(1)
  const range = `${firstSeed}..${firstSeed + runs - 1}`
  process.stdout.write(
    `${failed.length === 0 ? 'ok' : 'FAILED'} seeds=${range} failed=${failed.length}${failed.length > 0 ? ` [${failed.slice(0, 20).join(',')}]` : ''} ` +
      `ops=${totals.operations} completed=${totals.completed} unknown=${totals.unknown} events=${totals.events} ` +
      `crashes=${totals.crashes} partitions=${totals.partitions} confChanges=${totals.confChanges} transfers=${totals.transfers} ` +
      `leaderTerms=${totals.leaderTerms} snapshotChunks=${totals.snapshotChunks} time=${seconds}s\n`,
  )
  return failed.length === 0 ? 0 : 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2))
}
