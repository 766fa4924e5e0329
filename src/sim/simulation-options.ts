// The options of one simulated run, with their defaults in one place, and
// what a run reports.
import { defaultNetworkFaults, type NetworkFaults } from './network.js'
import type { ViolationCode } from './invariants.js'
import type { ScenarioVariation } from './scenario.js'
import { defaultClientOptions, type ClientOptions } from './sim-client.js'
import type { NodeOptions } from './sim-node.js'
import type { TraceWindow } from './trace.js'

export interface FaultOptions {
  crashes: boolean
  partitions: boolean
  membershipChanges: boolean
  leadershipTransfers: boolean
  /** Pause between two injected faults, drawn in [faultGapMinMs, faultGapMaxMs]. */
  faultGapMinMs: number
  faultGapMaxMs: number
  /** A crashed node restarts after up to this long (or when the quiet phase starts). */
  downtimeMaxMs: number
  /** A partition heals after up to this long. */
  partitionMaxMs: number
  diskLatencyMinMs: number
  diskLatencyMaxMs: number
  /** Probability that one persist is slow (up to diskSlowMaxMs): widens the crash window. */
  diskSlowRate: number
  diskSlowMaxMs: number
}

export const defaultFaultOptions: FaultOptions = {
  crashes: true,
  partitions: true,
  membershipChanges: true,
  leadershipTransfers: true,
  faultGapMinMs: 50,
  faultGapMaxMs: 400,
  downtimeMaxMs: 1_500,
  partitionMaxMs: 1_500,
  diskLatencyMinMs: 1,
  diskLatencyMaxMs: 4,
  diskSlowRate: 0.05,
  diskSlowMaxMs: 40,
}

export const defaultNodeOptions: NodeOptions = {
  electionTicks: 10,
  heartbeatTicks: 2,
  snapshotEveryEntries: 40,
  entriesKeptAfterSnapshot: 5,
  logReadEvery: 4,
  readOnly: 'safe',
  leaderSendsEarly: false,
  limits: {},
  faults: { staleReads: false, forgetVoteOnCrash: false, sendBeforePersist: false },
}

export interface SimulationOptions {
  seed: number
  initialVoters: number
  /** Voters and learners at most, for membership changes. */
  maxMembers: number
  /** Voters at least, for removals. */
  minVoters: number
  /** Node ids are never reused; at most this many are ever created. */
  nodeIdsMax: number
  clients: number
  /** Length of the phase with faults. */
  workloadMs: number
  /** Length of the quiet phase after it (clients stop half-way through). */
  quietMs: number
  tickMs: number
  /** Each node's tick interval is tickMs * (1 ± up to this): clocks drift apart. */
  tickDriftRatio: number
  network: NetworkFaults
  faults: FaultOptions
  node: NodeOptions
  client: ClientOptions
  /** Trace lines kept for a failure report. */
  traceLines: number
  /** Events per run at most: a run that would need more fails as SIMULATOR. */
  eventsMax: number
  /** Fail when no client operation completes in the quiet phase, or the members have not converged at its end. */
  checkLiveness: boolean
  /** Called with every trace line (verbose mode). */
  echo?: (line: string) => void
  /** Keep the trace lines inside this window instead of the last ones. */
  traceWindow?: TraceWindow
  /** What each seed draws for itself on top of these options (see scenario.ts). */
  vary: ScenarioVariation
}

export const defaultSimulationOptions: Omit<SimulationOptions, 'seed'> = {
  initialVoters: 3,
  maxMembers: 5,
  minVoters: 3,
  nodeIdsMax: 12,
  clients: 4,
  workloadMs: 5_000,
  quietMs: 4_000,
  tickMs: 10,
  tickDriftRatio: 0.03,
  network: defaultNetworkFaults,
  faults: defaultFaultOptions,
  node: defaultNodeOptions,
  client: defaultClientOptions,
  traceLines: 200,
  eventsMax: 2_000_000,
  checkLiveness: true,
  vary: { faults: true, core: true, readOnly: true, clusterSize: true, workload: true },
}

export interface SimulationStats {
  events: number
  virtualMs: number
  operations: number
  completed: number
  unknown: number
  completedWhileQuiet: number
  committedIndex: number
  crashes: number
  partitions: number
  confChanges: number
  transfers: number
  messagesSent: number
  /** InstallSnapshot chunks sent (followers that fell behind a compaction). */
  snapshotChunksSent: number
  /** Terms that had a leader. */
  leaderTerms: number
  messagesDropped: number
  linearizabilityStates: number
}

export interface SimulationFailure {
  code: ViolationCode | 'CHECK_INCONCLUSIVE'
  message: string
  /** The moment worth a closer look (a linearizability failure's operation). */
  focus?: TraceWindow
}

export interface SimulationResult {
  seed: number
  ok: boolean
  failure?: SimulationFailure
  /** Events kept for a report, oldest first: the last ones, or those around `failure.focus`. */
  trace: string[]
  /** What `trace` holds, in words. */
  traceTitle: string
  /** Hash of every event of the run: equal for two runs of one seed. */
  traceHash: string
  stats: SimulationStats
}
