// `npm run bench -- raft [--json] [--seconds S] [--batch N] [--entry-bytes B] [--pipeline P]`
//
// Three RawNodes in one thread with MemoryStorage and an in-memory message
// shuttle: how many 100-byte entries per second the pure core commits when
// the leader proposes in batches, and how long (wall time and shuttle rounds)
// a proposal takes to be committed and handed to the leader's application.
// The baseline is the same cluster with one entry per proposal.
import { performance } from 'node:perf_hooks'
import { createRng, MemoryStorage, RawNode, type Message, type NodeId } from '../src/raft/index.js'
import { createLatencyHistogram, formatTable, summarize, type BenchArgs, type BenchResult, type Measurement, numberOption } from './lib/report.js'

interface RunOptions {
  seconds: number
  batchSize: number
  entryBytes: number
  /** Batches proposed and not yet committed, at most. */
  pipelineDepth: number
}

interface RunResult extends Measurement {
  committedEntries: number
  /** Committed entries per second of this process's CPU time: less sensitive to a busy machine than opsPerSec. */
  entriesPerCpuSecond: number
  rounds: number
  p50Rounds: number
  p99Rounds: number
}

interface BenchNode {
  id: NodeId
  node: RawNode
  storage: MemoryStorage
  appliedIndex: number
}

/** Compact every node's log once it holds this many entries, so memory stays bounded. */
const COMPACT_EVERY_ENTRIES = 20_000
/** Rounds allowed for the initial election before giving up. */
const MAX_ELECTION_ROUNDS = 100


function createCluster(): BenchNode[] {
  const voters = [1, 2, 3]
  return voters.map((id) => {
    const storage = MemoryStorage.bootstrap({ voters, learners: [] })
    const node = new RawNode({
      id,
      storage,
      rng: createRng(id),
      electionTicks: 10,
      heartbeatTicks: 1,
      maxSizePerMsgBytes: 4 * 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedEntriesBytes: 256 * 1024 * 1024,
    })
    return { id, node, storage, appliedIndex: storage.firstIndex() - 1 }
  })
}

function run(options: RunOptions): RunResult {
  const nodes = createCluster()
  const byId = new Map(nodes.map((n) => [n.id, n]))
  let inFlight: Message[] = []
  const leader = nodes[0]!

  /** Handles one Ready following the contract; returns the committed entries' last index (0 if none). */
  const handleReady = (n: BenchNode): number => {
    if (!n.node.hasReady()) return 0
    const rd = n.node.ready()
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot)
    n.storage.append(rd.entries)
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState)
    for (let i = 0; i < rd.messages.length; i++) inFlight.push(rd.messages[i]!)
    const committed = rd.committedEntries
    if (committed.length > 0) n.appliedIndex = committed[committed.length - 1]!.index
    n.node.advance()
    if (n.appliedIndex - n.storage.firstIndex() > COMPACT_EVERY_ENTRIES) {
      n.storage.createSnapshot(n.appliedIndex, new Uint8Array(0))
      n.storage.compact(n.appliedIndex)
    }
    return committed.length > 0 ? n.appliedIndex : 0
  }
  const deliver = (): void => {
    const batch = inFlight
    inFlight = []
    for (let i = 0; i < batch.length; i++) byId.get(batch[i]!.to)!.node.step(batch[i]!)
  }

  leader.node.campaign()
  for (let round = 0; round < MAX_ELECTION_ROUNDS && leader.node.status().role !== 'leader'; round++) {
    for (const n of nodes) handleReady(n)
    deliver()
  }
  if (leader.node.status().role !== 'leader') throw new Error('raft bench: node 1 did not become leader')

  const payload = new Uint8Array(options.entryBytes).fill(0x61)
  const batch: Uint8Array[] = Array.from({ length: options.batchSize }, () => payload)
  const latencyUs = createLatencyHistogram()
  const roundsHistogram = createLatencyHistogram()
  // Batches waiting for commit: last index, start time, start round.
  const pendingLastIndex: number[] = []
  const pendingStartMs: number[] = []
  const pendingStartRound: number[] = []
  let pendingHead = 0
  let committedEntries = 0
  let round = 0
  const startMs = performance.now()
  const startCpu = process.cpuUsage()
  const deadlineMs = startMs + options.seconds * 1000
  let nowMs = startMs

  while (nowMs < deadlineMs) {
    round++
    if (pendingLastIndex.length - pendingHead < options.pipelineDepth) {
      const result = leader.node.proposeBatch(batch)
      if (!result.ok) throw new Error(`raft bench: proposal rejected: ${result.code} ${result.message}`)
      pendingLastIndex.push(result.lastIndex)
      pendingStartMs.push(nowMs)
      pendingStartRound.push(round)
    }
    for (const n of nodes) {
      const appliedIndex = handleReady(n)
      if (n !== leader || appliedIndex === 0) continue
      nowMs = performance.now()
      while (pendingHead < pendingLastIndex.length && pendingLastIndex[pendingHead]! <= appliedIndex) {
        const count = options.batchSize
        latencyUs.recordValueWithCount(Math.max(1, Math.round((nowMs - pendingStartMs[pendingHead]!) * 1000)), count)
        roundsHistogram.recordValueWithCount(round - pendingStartRound[pendingHead]! + 1, count)
        committedEntries += count
        pendingHead++
      }
      if (pendingHead > 4096) {
        pendingLastIndex.splice(0, pendingHead)
        pendingStartMs.splice(0, pendingHead)
        pendingStartRound.splice(0, pendingHead)
        pendingHead = 0
      }
    }
    deliver()
    nowMs = performance.now()
  }
  const elapsedSeconds = (nowMs - startMs) / 1000
  const cpu = process.cpuUsage(startCpu)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  return {
    name: `batch ${options.batchSize} x ${options.entryBytes} B`,
    opsPerSec: Math.round(committedEntries / elapsedSeconds),
    ...summarize(latencyUs),
    committedEntries,
    entriesPerCpuSecond: Math.round(committedEntries / cpuSeconds),
    rounds: round,
    p50Rounds: roundsHistogram.getValueAtPercentile(50),
    p99Rounds: roundsHistogram.getValueAtPercentile(99),
  }
}

export async function main(args: BenchArgs): Promise<BenchResult> {
  const seconds = numberOption(args.options, 'seconds', 5)
  const entryBytes = numberOption(args.options, 'entry-bytes', 100)
  const batchSize = numberOption(args.options, 'batch', 1000)
  const pipelineDepth = numberOption(args.options, 'pipeline', 4)
  // Warm the JIT up so the measured run is steady state.
  run({ seconds: Math.min(1, seconds / 4), batchSize, entryBytes, pipelineDepth })
  const batched = run({ seconds, batchSize, entryBytes, pipelineDepth })
  const unbatched = run({ seconds: Math.max(1, seconds / 4), batchSize: 1, entryBytes, pipelineDepth })
  if (!args.json) {
    process.stdout.write(formatTable([batched, unbatched]) + '\n')
    process.stdout.write(
      `commit latency in shuttle rounds (propose, persist+send, follower ack, leader commit+apply): ` +
        `batched p50 ${batched.p50Rounds} p99 ${batched.p99Rounds}; unbatched p50 ${unbatched.p50Rounds} p99 ${unbatched.p99Rounds}\n` +
        `committed entries per CPU second: batched ${batched.entriesPerCpuSecond}, unbatched ${unbatched.entriesPerCpuSecond}\n`,
    )
  }
  return {
    bench: 'raft',
    opsPerSec: batched.opsPerSec,
    p50Ms: batched.p50Ms,
    p99Ms: batched.p99Ms,
    p999Ms: batched.p999Ms,
    maxMs: batched.maxMs,
    p50Rounds: batched.p50Rounds,
    p99Rounds: batched.p99Rounds,
    nodes: 3,
    batchSize,
    entryBytes,
    pipelineDepth,
    seconds,
    committedEntries: batched.committedEntries,
    entriesPerCpuSecond: batched.entriesPerCpuSecond,
    baseline: {
      name: unbatched.name,
      opsPerSec: unbatched.opsPerSec,
      p50Ms: unbatched.p50Ms,
      p99Ms: unbatched.p99Ms,
      p999Ms: unbatched.p999Ms,
      maxMs: unbatched.maxMs,
    },
  }
}
