// Each seed also draws how hostile its world is: message loss and
// duplication, slow disks (a wider window for a crash to lose a Ready), how
// often faults strike, clock drift, the core's settings, the read path, the
// cluster size and the workload's contention. A fixed profile for
// all seeds would leave whole regions of behaviour untested; drawn from the
// seed, any failure still replays exactly.
import { createRng } from '../raft/rng.js'
import type { SimulationOptions } from './simulation-options.js'

export interface ScenarioVariation {
  /** Draw network, disk and fault rates from the seed. */
  faults: boolean
  /** Draw the core's timing and flow-control settings and the snapshot rate from the seed. */
  core: boolean
  /** Draw the read mode (safe ReadIndex or leader lease) from the seed. */
  readOnly: boolean
  /** Draw the number of initial voters (3 or 5). */
  clusterSize: boolean
  /** Draw the number of clients and of keys (contention). */
  workload: boolean
}

/** The random stream of the scenario draw; the simulation's other streams use 1..6. */
export const SCENARIO_STREAM = 7

export function applyScenario(options: SimulationOptions): { options: SimulationOptions; description: string } {
  const rng = createRng(options.seed * 8 + SCENARIO_STREAM)
  const pick = <T>(choices: readonly T[]): T => choices[rng.nextInt(choices.length)]!
  const network = { ...options.network }
  const faults = { ...options.faults }
  const node = { ...options.node }
  const client = { ...options.client }
  let tickDriftRatio = options.tickDriftRatio
  let { initialVoters, maxMembers, minVoters, clients } = options
  if (options.vary.faults) {
    network.lossRate = pick([0, 0.01, 0.03, 0.08])
    network.duplicateRate = pick([0, 0.01, 0.05])
    network.slowRate = pick([0, 0.02, 0.1])
    network.maxLatencyMs = pick([3, 8, 20])
    const disk = pick(['fast', 'fast', 'slow'] as const)
    faults.diskLatencyMaxMs = disk === 'fast' ? 4 : 15
    faults.diskSlowRate = disk === 'fast' ? 0.05 : 0.3
    faults.diskSlowMaxMs = disk === 'fast' ? 40 : 80
    faults.faultGapMaxMs = pick([150, 400, 800])
    tickDriftRatio = pick([0, 0.01, 0.03])
  }
  if (options.vary.core) {
    node.electionTicks = pick([5, 10, 10])
    node.heartbeatTicks = pick([1, 2])
    node.snapshotEveryEntries = pick([8, 40, 40])
    node.entriesKeptAfterSnapshot = pick([0, 5])
    node.limits = {
      maxSizePerMsgBytes: pick([300, 1024 * 1024]),
      maxInflightMsgs: pick([1, 4, 256]),
      snapshotChunkBytes: pick([256, 1024 * 1024]),
      broadcastCommit: pick([true, false]),
    }
    node.leaderSendsEarly = pick([true, false])
  }
  if (options.vary.readOnly) node.readOnly = pick(['safe', 'safe', 'lease-based'] as const)
  if (options.vary.clusterSize) {
    initialVoters = pick([3, 3, 5])
    maxMembers = Math.max(maxMembers, initialVoters)
    minVoters = Math.min(minVoters, initialVoters)
  }
  if (options.vary.workload) {
    clients = pick([2, 4, 4, 8])
    client.keyCount = pick([1, 3, 3, 6])
  }
  const description =
    `scenario: loss=${network.lossRate} dup=${network.duplicateRate} slow=${network.slowRate} ` +
    `latency=${network.minLatencyMs}..${network.maxLatencyMs}ms disk=${faults.diskLatencyMinMs}..${faults.diskLatencyMaxMs}ms ` +
    `(slow ${faults.diskSlowRate} up to ${faults.diskSlowMaxMs}ms) faultGap=${faults.faultGapMinMs}..${faults.faultGapMaxMs}ms ` +
    `drift=${tickDriftRatio} reads=${node.readOnly} voters=${initialVoters} clients=${clients} keys=${client.keyCount} ` +
    `ticks=${node.electionTicks}/${node.heartbeatTicks} snapshotEvery=${node.snapshotEveryEntries}+${node.entriesKeptAfterSnapshot} ` +
    `limits=${JSON.stringify(node.limits)} leaderSendsEarly=${node.leaderSendsEarly}`
  return {
    options: { ...options, network, faults, node, client, tickDriftRatio, initialVoters, maxMembers, minVoters, clients },
    description,
  }
}
