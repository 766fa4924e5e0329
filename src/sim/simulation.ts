// One seeded whole-cluster run: real Raft cores (SimNode) on a simulated
// network and disk, driven by virtual time, with clients running a KV
// workload while faults are injected. Timeline: the workload phase injects
// crashes, partitions, membership changes and leadership transfers; then the
// quiet phase heals the network, restarts every crashed member and lets the
// clients finish; at the end the client history is checked for
// linearizability. Every step is checked by the SafetyChecker; the first
// violation ends the run with the trace of the last events.
import type { ConfChange } from '../raft/conf-change.js'
import { MemoryStorage } from '../raft/memory-storage.js'
import { RawNode } from '../raft/raw-node.js'
import { createRng, type Rng } from '../raft/rng.js'
import type { ConfState, Message, NodeId } from '../raft/types.js'
import { EventQueue } from './event-queue.js'
import { HistoryRecorder, type KvInput, type KvOutput } from './history.js'
import { InvariantViolation, SafetyChecker } from './invariants.js'
import { kvModel } from './kv-model.js'
import { checkLinearizability } from './linearizability.js'
import { SimNetwork } from './network.js'
import { applyScenario } from './scenario.js'
import { SimClient } from './sim-client.js'
import { SimNode } from './sim-node.js'
import type { SimulationFailure, SimulationOptions, SimulationResult, SimulationStats } from './simulation-options.js'
import { SimTrace } from './trace.js'
import { CLIENT_ENDPOINT_BASE, describeEnvelope, type SimEnvelope } from './wire.js'

export {
  defaultFaultOptions,
  defaultNodeOptions,
  defaultSimulationOptions,
  type FaultOptions,
  type SimulationFailure,
  type SimulationOptions,
  type SimulationResult,
  type SimulationStats,
} from './simulation-options.js'

interface SimEvent {
  label: string | null
  run: () => void
}

/** Seeds of the independent random streams of one run. */
const enum Stream {
  Network = 1,
  Faults = 2,
  Clients = 3,
  Disk = 4,
  Clocks = 5,
  Cores = 6,
}

/**
 * Runs one seed. When the failure points at a moment (a linearizability
 * failure names an operation), the seed is replayed to keep the events around
 * that moment instead of the last ones; the replay must hash the same.
 */
export function runSimulation(options: SimulationOptions): SimulationResult {
  const result = new Simulation(options).run()
  const focus = result.failure?.focus
  if (focus === undefined || options.traceWindow !== undefined) return result
  const { echo: _echo, ...quiet } = options
  const replay = new Simulation({ ...quiet, traceWindow: focus }).run()
  if (replay.traceHash !== result.traceHash) {
    return {
      ...result,
      failure: { code: 'SIMULATOR', message: `seed ${options.seed} is not deterministic: replay hashed ${replay.traceHash}, run ${result.traceHash}` },
    }
  }
  return { ...result, trace: replay.trace, traceTitle: replay.traceTitle }
}

class Simulation {
  readonly #options: SimulationOptions
  readonly #queue: EventQueue<SimEvent>
  readonly #trace: SimTrace
  readonly #checker = new SafetyChecker()
  readonly #network: SimNetwork
  readonly #faultRng: Rng
  readonly #diskRng: Rng
  readonly #clockRng: Rng
  readonly #history = new HistoryRecorder<KvInput, KvOutput>()
  readonly #nodes = new Map<NodeId, SimNode>()
  readonly #removed = new Set<NodeId>()
  readonly #clients: SimClient[] = []
  /** The membership as of the highest applied conf change seen anywhere. */
  #conf: { index: number; state: ConfState }
  #nextNodeId: NodeId
  #quiet = false
  #completedAtQuiet = 0
  readonly #stats = { crashes: 0, partitions: 0, confChanges: 0, transfers: 0, snapshotChunksSent: 0, linearizabilityStates: 0 }
  readonly #scenario: string

  constructor(requested: SimulationOptions) {
    const { options, description } = applyScenario(requested)
    this.#options = options
    this.#scenario = description
    this.#queue = new EventQueue<SimEvent>(options.eventsMax)
    this.#trace = new SimTrace(options.traceLines, options.echo, options.traceWindow)
    this.#network = new SimNetwork(this.#streamRng(Stream.Network), options.network)
    this.#faultRng = this.#streamRng(Stream.Faults)
    this.#diskRng = this.#streamRng(Stream.Disk)
    this.#clockRng = this.#streamRng(Stream.Clocks)
    const voters = Array.from({ length: options.initialVoters }, (_, i) => i + 1)
    this.#conf = { index: 1, state: { voters, learners: [] } }
    this.#nextNodeId = options.initialVoters + 1
  }

  run(): SimulationResult {
    let failure: SimulationFailure | undefined
    try {
      this.#setUp()
      this.#loop()
      failure = this.#finalChecks()
    } catch (err) {
      failure = toFailure(err)
    }
    const stats = this.#collectStats()
    this.#trace.mix(JSON.stringify(stats))
    if (failure !== undefined) this.#trace.mix(`${failure.code} ${failure.message}`)
    const window = this.#options.traceWindow
    const trace = this.#trace.lastLines()
    const result: SimulationResult = {
      seed: this.#options.seed,
      ok: failure === undefined,
      trace,
      traceTitle:
        window === undefined
          ? `last ${trace.length} events`
          : `last ${trace.length} events between ${(window.fromMs / 1000).toFixed(3)}s and ${(window.toMs / 1000).toFixed(3)}s`,
      traceHash: this.#trace.hash,
      stats,
    }
    if (failure !== undefined) result.failure = failure
    return result
  }

  #streamRng(stream: Stream): Rng {
    return createRng(this.#options.seed * 8 + stream)
  }

  #setUp(): void {
    this.#trace.record(0, this.#scenario)
    for (const id of this.#conf.state.voters) this.#addNode(id, MemoryStorage.bootstrap(this.#conf.state))
    const clientRng = this.#streamRng(Stream.Clients)
    for (let c = 1; c <= this.#options.clients; c++) {
      const client = new SimClient(c, clientRng, this.#history, this.#options.client, {
        nowMs: () => this.#queue.nowMs,
        send: (fromClient, to, envelope) => this.#send(CLIENT_ENDPOINT_BASE + fromClient, to, envelope),
        after: (delayMs, label, run) => this.#after(delayMs, label, run),
        trace: (line) => this.#trace.record(this.#queue.nowMs, line),
        members: () => this.#members(),
      })
      this.#clients.push(client)
      client.start()
    }
    this.#after(this.#faultGapMs(), null, () => this.#injectFault())
    this.#after(this.#options.workloadMs, 'quiet phase: heal, restart, no more faults', () => this.#beginQuiet())
    this.#after(this.#options.workloadMs + this.#options.quietMs / 2, 'clients stop', () => {
      for (const client of this.#clients) client.stop()
      this.#sampleConvergence()
    })
  }

  #loop(): void {
    const endMs = this.#options.workloadMs + this.#options.quietMs
    for (let events = 0; events < this.#options.eventsMax; events++) {
      const next = this.#queue.pop()
      if (next === undefined || next.atMs > endMs) return
      if (next.event.label !== null) this.#trace.record(next.atMs, next.event.label)
      next.event.run()
    }
    throw new InvariantViolation('SIMULATOR', `run exceeded ${this.#options.eventsMax} events`)
  }

  #finalChecks(): SimulationFailure | undefined {
    const history = this.#history.operations()
    const result = checkLinearizability(kvModel, history)
    this.#stats.linearizabilityStates = result.statesExplored
    if (result.verdict === 'not-linearizable') {
      const blocked = history.find((op) => op.id === result.blockedOperationId)
      const failure: SimulationFailure = { code: 'LINEARIZABILITY', message: result.explanation }
      if (blocked !== undefined) {
        failure.focus = { fromMs: blocked.callTime - 100, toMs: (blocked.returnTime ?? blocked.callTime + 100) + 5 }
      }
      return failure
    }
    if (result.verdict === 'budget-exceeded') return { code: 'CHECK_INCONCLUSIVE', message: result.explanation }
    const completed = this.#completed()
    if (this.#options.checkLiveness && completed === this.#completedAtQuiet) {
      return {
        code: 'LIVENESS',
        message: `no client operation completed in the ${this.#options.quietMs} ms quiet phase (healed network, all members up)`,
      }
    }
    if (this.#options.checkLiveness && this.#notConverged !== null) {
      return { code: 'LIVENESS', message: `the members never converged after the clients stopped; last look: ${this.#notConverged}` }
    }
    return undefined
  }

  /** Why the members have not converged at the last look; null once they did. */
  #notConverged: string | null = 'not looked at yet'

  /**
   * Once the clients stop, looks every 50 ms until one member leads and every
   * member has applied everything committed. A single look at the end would
   * fail on a legitimate election that happens to be under way right then.
   */
  #sampleConvergence(): void {
    const members = this.#members().map((id) => this.#nodes.get(id)!)
    const committed = this.#checker.committedIndex
    const behind = members.filter((node) => node.appliedIndex < committed)
    if (behind.length > 0) {
      const where = behind.map((n) => `n${n.id} at ${n.appliedIndex} (${n.running ? n.role : 'down'})`).join(', ')
      this.#notConverged = `members behind the commit index ${committed}: ${where}`
    } else if (!members.some((node) => node.isLeader)) {
      this.#notConverged = `no member leads (members ${members.map((n) => `n${n.id}`).join(', ')})`
    } else {
      this.#notConverged = null
      this.#trace.record(this.#queue.nowMs, `converged at commit index ${committed}`)
      return
    }
    this.#after(50, null, () => this.#sampleConvergence())
  }

  #completed(): number {
    return this.#clients.reduce((sum, c) => sum + c.stats.completed, 0)
  }

  #collectStats(): SimulationStats {
    const unknown = this.#clients.reduce((sum, c) => sum + c.stats.unknown, 0)
    const completed = this.#completed()
    return {
      events: this.#trace.eventCount,
      virtualMs: this.#queue.nowMs,
      operations: this.#history.size,
      completed,
      unknown,
      completedWhileQuiet: completed - this.#completedAtQuiet,
      committedIndex: this.#checker.committedIndex,
      ...this.#stats,
      messagesSent: this.#network.stats.sent,
      leaderTerms: this.#checker.leaderTerms,
      messagesDropped: this.#network.stats.dropped + this.#network.stats.blocked,
    }
  }

  #after(delayMs: number, label: string | null, run: () => void): void {
    this.#queue.schedule(delayMs, { label, run })
  }

  // ------------------------------------------------------------ nodes

  #addNode(id: NodeId, storage: MemoryStorage): SimNode {
    const node = new SimNode(id, storage, this.#options.node, {
      sendRaft: (message) => this.#send(message.from, message.to, { kind: 'raft', message }),
      reply: (from, clientId, envelope) => this.#send(from, CLIENT_ENDPOINT_BASE + clientId, envelope),
      after: (delayMs, label, run) => this.#after(delayMs, label, run),
      diskLatencyMs: () => this.#diskLatencyMs(),
      checker: this.#checker,
      trace: (line) => this.#trace.record(this.#queue.nowMs, line),
      onConfChangeApplied: (nodeId, index, cc, confState) => this.#confChangeApplied(nodeId, index, cc, confState),
      createCore: (config) => new RawNode(config),
      coreRng: (nodeId, incarnation) => createRng((this.#options.seed * 8 + Stream.Cores) * 4096 + nodeId * 64 + (incarnation % 64)),
    })
    this.#nodes.set(id, node)
    node.start()
    const drift = 1 + (this.#clockRng.nextFloat() * 2 - 1) * this.#options.tickDriftRatio
    const intervalMs = this.#options.tickMs * drift
    const tick = (): void => {
      if (this.#removed.has(id)) return
      node.tick()
      this.#after(intervalMs, null, tick)
    }
    this.#after(this.#clockRng.nextFloat() * intervalMs, null, tick)
    return node
  }

  #members(): NodeId[] {
    const { voters, learners } = this.#conf.state
    return [...voters, ...learners].filter((id) => !this.#removed.has(id) && this.#nodes.has(id))
  }

  #leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const node of this.#nodes.values()) {
      if (node.isLeader && (best === undefined || node.term > best.term)) best = node
    }
    return best
  }

  #diskLatencyMs(): number {
    const f = this.#options.faults
    const slow = this.#diskRng.nextFloat() < f.diskSlowRate
    const lo = f.diskLatencyMinMs
    const hi = slow ? f.diskSlowMaxMs : f.diskLatencyMaxMs
    return lo + this.#diskRng.nextInt(hi - lo + 1)
  }

  // ------------------------------------------------------------ network

  #send(from: number, to: number, envelope: SimEnvelope): void {
    if (envelope.kind === 'raft' && envelope.message.type === 'snap') this.#stats.snapshotChunksSent++
    const delays = this.#network.transmit(from, to, envelope.kind === 'request')
    if (delays.length === 0) return
    const label = `${endpointName(from)}>${endpointName(to)} ${describeEnvelope(envelope)}`
    for (const delayMs of delays) {
      this.#after(delayMs, label, () => this.#deliver(from, to, envelope))
    }
  }

  #deliver(from: number, to: number, envelope: SimEnvelope): void {
    if (!this.#network.canDeliver(from, to)) return
    if (to >= CLIENT_ENDPOINT_BASE) {
      this.#clients[to - CLIENT_ENDPOINT_BASE - 1]?.receive(envelope)
      return
    }
    const node = this.#nodes.get(to)
    if (node === undefined || this.#removed.has(to)) return
    // A fresh object per delivery: a duplicated message must not share state the core may touch.
    node.receive(envelope.kind === 'raft' ? { kind: 'raft', message: copyMessage(envelope.message) } : envelope)
  }

  // ------------------------------------------------------------ faults

  #faultGapMs(): number {
    const f = this.#options.faults
    return f.faultGapMinMs + this.#faultRng.nextInt(f.faultGapMaxMs - f.faultGapMinMs + 1)
  }

  #injectFault(): void {
    if (this.#quiet) return
    const f = this.#options.faults
    const kinds: (() => void)[] = []
    if (f.crashes) kinds.push(() => this.#crashSome(), () => this.#crashSome())
    if (f.partitions) kinds.push(() => this.#partitionSome(), () => this.#blockOneWay())
    if (f.membershipChanges) kinds.push(() => this.#changeMembership())
    if (f.leadershipTransfers) kinds.push(() => this.#transferLeadership())
    if (kinds.length > 0) kinds[this.#faultRng.nextInt(kinds.length)]!()
    this.#after(this.#faultGapMs(), null, () => this.#injectFault())
  }

  /** Half the crashes hit a node mid-persist (the Ready is lost), some the leader, the rest anyone. */
  #crashSome(): void {
    const running = [...this.#nodes.values()].filter((n) => n.running && !this.#removed.has(n.id))
    if (running.length === 0) return
    const persisting = running.filter((n) => n.persisting)
    const leaders = running.filter((n) => n.isLeader)
    const roll = this.#faultRng.nextInt(4)
    const pool = roll < 2 && persisting.length > 0 ? persisting : roll === 2 && leaders.length > 0 ? leaders : running
    const node = pool[this.#faultRng.nextInt(pool.length)]!
    node.crash()
    this.#stats.crashes++
    this.#trace.record(this.#queue.nowMs, `CRASH n${node.id} ${describeDurable(node)}`)
    // A killed process's connections close at once: its peers hear of it.
    for (const other of running) if (other !== node) other.peerDown(node.id)
    const downMs = 1 + this.#faultRng.nextInt(this.#options.faults.downtimeMaxMs)
    this.#after(downMs, null, () => this.#restart(node))
  }

  #restart(node: SimNode): void {
    if (node.running || this.#removed.has(node.id)) return
    this.#trace.record(this.#queue.nowMs, `RESTART n${node.id} ${describeDurable(node)}`)
    node.start()
  }

  /** Half the partitions cut the leader off alone (clients still reach it), the rest split at random. */
  #partitionSome(): void {
    const ids = [...this.#nodes.keys()].filter((id) => !this.#removed.has(id))
    const leader = this.#leader()
    const isolateLeader = leader !== undefined && this.#faultRng.nextInt(2) === 0
    const side = isolateLeader ? [leader.id] : ids.filter(() => this.#faultRng.nextInt(2) === 0)
    if (side.length === 0 || side.length === ids.length) return
    const rest = ids.filter((id) => !side.includes(id))
    this.#network.partition(side, rest)
    this.#stats.partitions++
    this.#trace.record(this.#queue.nowMs, `PARTITION [${side.join(',')}] | [${rest.join(',')}]`)
    // The connections across the cut break, while the leader may live on
    // (one-way blocks below break none): the followers that lose their
    // leader forget it and elect another at once.
    for (const id of side) for (const other of rest) this.#linkDown(id, other)
    this.#scheduleHeal()
  }

  #blockOneWay(): void {
    const ids = [...this.#nodes.keys()].filter((id) => !this.#removed.has(id))
    if (ids.length < 2) return
    const from = ids[this.#faultRng.nextInt(ids.length)]!
    const others = ids.filter((id) => id !== from)
    const to = others[this.#faultRng.nextInt(others.length)]!
    this.#network.blockOneWay(from, to)
    this.#stats.partitions++
    this.#trace.record(this.#queue.nowMs, `BLOCK n${from}>n${to} (one way)`)
    this.#scheduleHeal()
  }

  /** The connection between `a` and `b` closed: each hears that the other is gone. */
  #linkDown(a: NodeId, b: NodeId): void {
    this.#nodes.get(a)?.peerDown(b)
    this.#nodes.get(b)?.peerDown(a)
  }

  #scheduleHeal(): void {
    const healMs = 1 + this.#faultRng.nextInt(this.#options.faults.partitionMaxMs)
    this.#after(healMs, null, () => {
      if (this.#network.blockedLinks().length === 0) return
      this.#network.heal()
      this.#trace.record(this.#queue.nowMs, 'HEAL network')
    })
  }

  #transferLeadership(): void {
    const leader = this.#leader()
    if (leader === undefined) return
    const voters = leader.confState.voters.filter((id) => id !== leader.id)
    if (voters.length === 0) return
    const to = voters[this.#faultRng.nextInt(voters.length)]!
    const result = leader.transferLeadership(to)
    this.#stats.transfers++
    this.#trace.record(this.#queue.nowMs, `TRANSFER n${leader.id} -> n${to}: ${result === null ? 'down' : result.ok ? 'accepted' : result.code}`)
  }

  #changeMembership(): void {
    const leader = this.#leader()
    if (leader === undefined) return
    const { voters, learners } = leader.confState
    const choices: ConfChange[] = []
    if (learners.length > 0) choices.push({ type: 'addVoter', nodeId: learners[0]! })
    if (voters.length + learners.length < this.#options.maxMembers && this.#nextNodeId <= this.#options.nodeIdsMax) {
      choices.push({ type: 'addLearner', nodeId: this.#nextNodeId })
    }
    const removable = voters.filter((id) => id !== leader.id || voters.length > 1)
    if (voters.length > this.#options.minVoters && removable.length > 0) {
      choices.push({ type: 'removeVoter', nodeId: removable[this.#faultRng.nextInt(removable.length)]! })
    }
    if (choices.length === 0) return
    const cc = choices[this.#faultRng.nextInt(choices.length)]!
    if (cc.type === 'addLearner') {
      // The new node runs from now on with empty storage and learns everything from the leader.
      this.#nextNodeId++
      this.#trace.record(this.#queue.nowMs, `NEW NODE n${cc.nodeId}`)
      this.#addNode(cc.nodeId, new MemoryStorage())
    }
    const result = leader.proposeConfChange(cc)
    this.#stats.confChanges++
    this.#trace.record(
      this.#queue.nowMs,
      `CONF CHANGE at n${leader.id}: ${cc.type} n${cc.nodeId}: ${result === null ? 'down' : result.ok ? `index ${result.firstIndex}` : result.code}`,
    )
  }

  #confChangeApplied(_node: NodeId, index: number, cc: ConfChange, confState: ConfState): void {
    if (index <= this.#conf.index) return
    this.#conf = { index, state: confState }
    this.#trace.record(this.#queue.nowMs, `MEMBERS @${index} voters=[${confState.voters.join(',')}] learners=[${confState.learners.join(',')}]`)
    if (cc.type === 'removeVoter') {
      const removedId = cc.nodeId
      // The removed node keeps running briefly (it may still answer), then is shut down for good.
      this.#after(200, `SHUTDOWN removed n${removedId}`, () => {
        const node = this.#nodes.get(removedId)
        if (node === undefined || this.#removed.has(removedId)) return
        const stillMember = this.#conf.state.voters.includes(removedId) || this.#conf.state.learners.includes(removedId)
        if (stillMember) return
        node.crash()
        this.#removed.add(removedId)
      })
    }
  }

  #beginQuiet(): void {
    this.#quiet = true
    this.#completedAtQuiet = this.#completed()
    this.#network.heal()
    for (const node of this.#nodes.values()) {
      if (!node.running && !this.#removed.has(node.id)) {
        this.#trace.record(this.#queue.nowMs, `RESTART n${node.id} ${describeDurable(node)}`)
        node.start()
      }
    }
  }
}

/** A node's durable state in one line: log range and last term, hard state. */
function describeDurable(node: SimNode): string {
  const storage = node.storage
  const { hardState } = storage.initialState()
  const last = storage.lastIndex()
  return `(log ${storage.firstIndex()}..${last} last term ${storage.term(last)}; term ${hardState.term} vote n${hardState.vote} commit ${hardState.commit})`
}

function endpointName(id: number): string {
  return id >= CLIENT_ENDPOINT_BASE ? `c${id - CLIENT_ENDPOINT_BASE}` : `n${id}`
}

function copyMessage(message: Message): Message {
  return { ...message, entries: message.entries.slice() }
}

function toFailure(err: unknown): SimulationFailure {
  if (err instanceof InvariantViolation) return { code: err.code, message: err.message }
  const error = err instanceof Error ? err : new Error(String(err))
  const code = (error as Error & { code?: unknown }).code
  const where = error.stack?.split('\n').slice(1, 4).map((l) => l.trim()).join(' < ') ?? ''
  // An error the Raft core throws (its own assertions) is a core failure, not the simulator's.
  return { code: error.name === 'RaftError' ? 'CORE_ERROR' : 'SIMULATOR', message: `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message} (${where})` }
}

