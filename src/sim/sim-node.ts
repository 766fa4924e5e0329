// One simulated server: a real Raft core, the KV machine, and a durable
// MemoryStorage that holds only what was persisted. Handling a Ready follows
// its contract (persist, then send, then apply, then advance), and the
// persist step takes virtual time: a crash before it completes loses that
// Ready's entries and hard state, as a crash before fsync would.
import { decodeConfChange, type ConfChange } from '../raft/conf-change.js'
import type { RaftConfig } from '../raft/config.js'
import { RaftError, type ProposeResult, type RaftResult, type RejectionCode } from '../raft/errors.js'
import { MemoryStorage } from '../raft/memory-storage.js'
import type { ConfState, Entry, Message, NodeId, RaftRole, Ready } from '../raft/types.js'
import { lostLeaderCampaignTicks } from '../raft/raw-node.js'
import type { KvGetOutput } from './history.js'
import { entryDigest, InvariantViolation, type SafetyChecker } from './invariants.js'
import { decodeKvCommand, encodeKvCommand, SimKvMachine } from './kv-machine.js'
import type { SimEnvelope } from './wire.js'

/** The part of the Raft core's RawNode the simulator drives. */
export interface SimRaftCore {
  tick(): void
  forgetLeader(campaignInTicks?: number): boolean
  step(message: Message): void
  propose(data: Uint8Array): ProposeResult
  readIndex(ctx: Uint8Array): RaftResult
  transferLeadership(to: NodeId): RaftResult
  proposeConfChange(cc: ConfChange): ProposeResult
  applyConfChange(cc: ConfChange): ConfState
  hasReady(): boolean
  ready(): Ready
  advance(): void
}

export interface NodeFaults {
  /** Serve reads from the local machine without ReadIndex: breaks linearizability. */
  staleReads: boolean
  /** The durable vote is lost at every crash: breaks election safety. */
  forgetVoteOnCrash: boolean
  /** Send a Ready's messages before its entries are durable (breaks the Ready contract): acknowledged entries die in crashes. */
  sendBeforePersist: boolean
}

export interface NodeOptions {
  electionTicks: number
  heartbeatTicks: number
  /** Take a snapshot once this many entries were applied since the last one. */
  snapshotEveryEntries: number
  /** Entries kept in the log behind a snapshot, for followers that lag a little. */
  entriesKeptAfterSnapshot: number
  /** Every n-th read goes through the log instead of ReadIndex (0: never). */
  logReadEvery: number
  readOnly: 'safe' | 'lease-based'
  /**
   * A leader sends a Ready's messages before persisting it when the core
   * allows (`Ready.sendFirst`), as Troupe's shard replicas do. Safe, unlike
   * `faults.sendBeforePersist`, which does it on every node for every Ready.
   */
  leaderSendsEarly: boolean
  /** Flow-control limits of the core, small ones to exercise its batching, windows and chunking; and whether commits are broadcast at once. */
  limits: Pick<RaftConfig, 'maxSizePerMsgBytes' | 'maxInflightMsgs' | 'snapshotChunkBytes' | 'broadcastCommit'>
  faults: NodeFaults
}

export interface NodeHost {
  sendRaft(message: Message): void
  reply(from: NodeId, clientId: number, envelope: SimEnvelope): void
  after(delayMs: number, label: string, run: () => void): void
  diskLatencyMs(): number
  readonly checker: SafetyChecker
  trace(line: string): void
  onConfChangeApplied(node: NodeId, index: number, cc: ConfChange, confState: ConfState): void
  createCore(config: RaftConfig): SimRaftCore
  /** The core's random generator for one life of a node. */
  coreRng(node: NodeId, incarnation: number): RaftConfig['rng']
}

interface PendingRead {
  clientId: number
  requestId: number
  key: string
  /** Known once the ReadIndex completed. */
  readIndex: number | null
}

export class SimNode {
  readonly id: NodeId
  /** What survives a crash. */
  readonly storage: MemoryStorage
  readonly #options: NodeOptions
  readonly #host: NodeHost
  #core: SimRaftCore | null = null
  #machine = new SimKvMachine()
  #incarnation = 0
  /** A Ready whose persistence is under way (at most one: ready() waits for advance()). */
  #persisting: Ready | null = null
  #term = 0
  #role: RaftRole = 'follower'
  #lead: NodeId = 0
  /** Set when a Ready announced leadership; checked once that Ready is durable. */
  #leadershipToCheck = 0
  #confState: ConfState
  /** Waiting writes by client (one operation in flight per client). */
  readonly #writes = new Map<number, number>()
  readonly #reads = new Map<number, PendingRead>()
  #appliedSinceSnapshot = 0

  constructor(id: NodeId, storage: MemoryStorage, options: NodeOptions, host: NodeHost) {
    this.id = id
    this.storage = storage
    this.#options = options
    this.#host = host
    this.#confState = storage.initialState().confState
  }

  get running(): boolean {
    return this.#core !== null
  }

  /** A Ready is being persisted: a crash now loses it. */
  get persisting(): boolean {
    return this.#persisting !== null
  }

  get isLeader(): boolean {
    return this.#core !== null && this.#role === 'leader'
  }

  get term(): number {
    return this.#term
  }

  get role(): RaftRole {
    return this.#role
  }

  get leaderHint(): NodeId {
    return this.#lead
  }

  get appliedIndex(): number {
    return this.#machine.appliedIndex
  }

  get confState(): ConfState {
    return this.#confState
  }

  /** Starts (or restarts) the node from its durable storage. */
  start(): void {
    if (this.#core !== null) throw new InvariantViolation('SIMULATOR', `n${this.id} is already running`)
    this.#incarnation++
    const { hardState, confState } = this.storage.initialState()
    this.#host.checker.observeDurableHardState(this.id, hardState, 'restart')
    this.#host.checker.checkDurableLog(this.id, this.storage, hardState.commit)
    const snapshot = this.storage.snapshot()
    this.#machine = new SimKvMachine()
    this.#machine.restore(snapshot.metadata.index, snapshot.data)
    this.#appliedSinceSnapshot = 0
    this.#confState = confState
    this.#term = hardState.term
    this.#role = 'follower'
    this.#lead = 0
    this.#core = this.#host.createCore({
      id: this.id,
      storage: this.storage,
      rng: this.#host.coreRng(this.id, this.#incarnation),
      electionTicks: this.#options.electionTicks,
      heartbeatTicks: this.#options.heartbeatTicks,
      applied: snapshot.metadata.index,
      readOnly: this.#options.readOnly,
      ...this.#options.limits,
    })
    this.#pump()
  }

  /** Loses everything not yet durable. */
  crash(): void {
    this.#core = null
    this.#persisting = null
    this.#leadershipToCheck = 0
    this.#writes.clear()
    this.#reads.clear()
    this.#role = 'follower'
    this.#lead = 0
    if (this.#options.faults.forgetVoteOnCrash) {
      const { hardState } = this.storage.initialState()
      this.storage.setHardState({ ...hardState, vote: 0 })
    }
  }

  tick(): void {
    if (this.#core === null) return
    this.#core.tick()
    this.#pump()
  }

  /**
   * The connection to `id` closed, as Troupe's peer router reports it: a
   * follower of `id` forgets it and campaigns soon, in the voters' order
   * (as ShardReplica.peerDown does).
   */
  peerDown(id: NodeId): void {
    if (this.#core === null || this.#role !== 'follower' || this.#lead !== id) return
    this.#core.forgetLeader(lostLeaderCampaignTicks(this.#confState.voters, this.id, id))
    this.#pump()
  }

  receive(envelope: SimEnvelope): void {
    const core = this.#core
    if (core === null) return
    switch (envelope.kind) {
      case 'raft':
        core.step(envelope.message)
        break
      case 'request':
        this.#request(core, envelope)
        break
      case 'response':
      case 'refused':
        return
    }
    this.#pump()
  }

  transferLeadership(to: NodeId): RaftResult | null {
    if (this.#core === null) return null
    const result = this.#core.transferLeadership(to)
    this.#pump()
    return result
  }

  proposeConfChange(cc: ConfChange): ProposeResult | null {
    if (this.#core === null) return null
    const result = this.#core.proposeConfChange(cc)
    this.#pump()
    return result
  }

  #request(core: SimRaftCore, request: Extract<SimEnvelope, { kind: 'request' }>): void {
    const { clientId, requestId, input } = request
    if (input.kind === 'get' && this.#options.faults.staleReads) {
      this.#host.reply(this.id, clientId, { kind: 'response', requestId, output: this.#machine.read(input.key) })
      return
    }
    const viaLog = this.#options.logReadEvery > 0 && requestId % this.#options.logReadEvery === 0
    if (input.kind === 'get' && !viaLog) {
      const result = core.readIndex(readContext(clientId, requestId))
      if (!result.ok) {
        this.#refuse(request, result.code, result.leaderId)
        return
      }
      this.#reads.set(clientId, { clientId, requestId, key: input.key, readIndex: null })
      return
    }
    const result = core.propose(encodeKvCommand({ clientId, requestId, input }))
    if (!result.ok) {
      this.#refuse(request, result.code, result.leaderId)
      return
    }
    this.#writes.set(clientId, requestId)
  }

  #refuse(request: Extract<SimEnvelope, { kind: 'request' }>, code: RejectionCode, leaderId: NodeId | undefined): void {
    const { requestId, attempt } = request
    const envelope: SimEnvelope =
      leaderId === undefined ? { kind: 'refused', requestId, attempt, code } : { kind: 'refused', requestId, attempt, code, leaderId }
    this.#host.reply(this.id, request.clientId, envelope)
  }

  /** Handles Readies until there is none or one is being persisted. */
  #pump(): void {
    for (let round = 0; round < 1000; round++) {
      const core = this.#core
      if (core === null || this.#persisting !== null || !core.hasReady()) return
      const ready = core.ready()
      if (ready.hardState !== undefined) this.#term = ready.hardState.term
      if (ready.softState !== undefined) {
        if (ready.softState.role !== this.#role || ready.softState.lead !== this.#lead) {
          this.#host.trace(`n${this.id} ${ready.softState.role} t${this.#term} lead=n${ready.softState.lead}`)
        }
        this.#role = ready.softState.role
        this.#lead = ready.softState.lead
        if (this.#role === 'leader') {
          this.#host.checker.observeLeader(this.id, this.#term)
          this.#leadershipToCheck = this.#term
        }
      }
      const needsDisk = ready.snapshot !== undefined || ready.entries.length > 0 || (ready.hardState !== undefined && ready.mustSync)
      if (!needsDisk) {
        this.#finish(core, ready)
        continue
      }
      this.#persisting = ready
      if (this.#options.faults.sendBeforePersist || (this.#options.leaderSendsEarly && ready.sendFirst)) {
        for (const message of ready.messages) this.#host.sendRaft(message)
        ready.messages = []
      }
      const incarnation = this.#incarnation
      this.#host.after(this.#host.diskLatencyMs(), `n${this.id} fsync`, () => {
        if (this.#incarnation !== incarnation || this.#persisting !== ready || this.#core === null) return
        this.#persist(ready)
        this.#persisting = null
        this.#finish(this.#core, ready)
        this.#pump()
      })
      return
    }
    throw new InvariantViolation('SIMULATOR', `n${this.id}: more than 1000 Readies in a row`)
  }

  #persist(ready: Ready): void {
    const checker = this.#host.checker
    if (ready.snapshot !== undefined) this.storage.applySnapshot(ready.snapshot)
    if (ready.entries.length > 0) {
      const previousTerm = this.#termOrUndefined(ready.entries[0]!.index - 1)
      const durableCommit = this.storage.initialState().hardState.commit
      this.storage.append(ready.entries)
      checker.observePersistedEntries(this.id, ready.entries, previousTerm, durableCommit)
    }
    if (ready.hardState !== undefined) {
      this.storage.setHardState(ready.hardState)
      checker.observeDurableHardState(this.id, ready.hardState, 'persist')
    }
    if (this.#leadershipToCheck !== 0 && this.#leadershipToCheck === this.#term) {
      checker.checkLeaderCompleteness(this.id, this.#term, this.storage)
    }
    this.#leadershipToCheck = 0
  }

  #termOrUndefined(index: number): number | undefined {
    try {
      return this.storage.term(index)
    } catch (err) {
      if (err instanceof RaftError && (err.code === 'COMPACTED' || err.code === 'UNAVAILABLE')) return undefined
      throw err
    }
  }

  #finish(core: SimRaftCore, ready: Ready): void {
    if (ready.hardState !== undefined && !ready.mustSync) {
      // Only the commit index moved: stored without waiting, losing it is harmless.
      this.storage.setHardState(ready.hardState)
      this.#host.checker.observeDurableHardState(this.id, ready.hardState, 'commit')
    }
    for (const message of ready.messages) this.#host.sendRaft(message)
    if (ready.snapshot !== undefined) {
      this.#machine.restore(ready.snapshot.metadata.index, ready.snapshot.data)
      this.#confState = ready.snapshot.metadata.confState
      this.#appliedSinceSnapshot = 0
    }
    if (ready.committedEntries.length > 0) {
      this.#host.checker.observeCommittedEntries(this.id, ready.committedEntries, this.#term)
      for (const entry of ready.committedEntries) this.#apply(core, entry)
    }
    for (const readState of ready.readStates) {
      const read = this.#reads.get(readContextClient(readState.requestCtx))
      if (read !== undefined && readContextMatches(readState.requestCtx, read)) read.readIndex = readState.index
    }
    this.#serveReads()
    core.advance()
    this.#maybeSnapshot()
  }

  #apply(core: SimRaftCore, entry: Entry): void {
    if (entry.index <= this.#machine.appliedIndex) return
    if (entry.type === 'conf') {
      const cc = decodeConfChange(entry.data)
      this.#confState = core.applyConfChange(cc)
      this.storage.setConfState(this.#confState)
      this.#machine.skip(entry.index)
      this.#host.checker.observeApplied(this.id, entry.index, `conf ${cc.type} n${cc.nodeId}`)
      this.#host.onConfChangeApplied(this.id, entry.index, cc, this.#confState)
    } else if (entry.data.byteLength === 0) {
      this.#machine.skip(entry.index)
      this.#host.checker.observeApplied(this.id, entry.index, 'empty')
    } else {
      const command = decodeKvCommand(entry.data)
      const output = this.#machine.apply(entry.index, command)
      this.#host.checker.observeApplied(this.id, entry.index, `${entryDigest(entry)} -> ${JSON.stringify(output)}`)
      if (output !== null && this.#writes.get(command.clientId) === command.requestId) {
        this.#writes.delete(command.clientId)
        this.#host.reply(this.id, command.clientId, { kind: 'response', requestId: command.requestId, output })
      }
    }
    this.#appliedSinceSnapshot++
  }

  #serveReads(): void {
    for (const read of this.#reads.values()) {
      if (read.readIndex === null || read.readIndex > this.#machine.appliedIndex) continue
      this.#reads.delete(read.clientId)
      const output: KvGetOutput = this.#machine.read(read.key)
      this.#host.reply(this.id, read.clientId, { kind: 'response', requestId: read.requestId, output })
    }
  }

  #maybeSnapshot(): void {
    if (this.#appliedSinceSnapshot < this.#options.snapshotEveryEntries) return
    const applied = this.#machine.appliedIndex
    if (applied > this.storage.lastIndex() || applied <= this.storage.snapshot().metadata.index) return
    this.storage.createSnapshot(applied, this.#machine.snapshot(), this.#confState)
    const compactTo = applied - this.#options.entriesKeptAfterSnapshot
    if (compactTo >= this.storage.firstIndex()) this.storage.compact(compactTo)
    this.#appliedSinceSnapshot = 0
    this.#host.trace(`n${this.id} snapshot @${applied} compact<=${compactTo}`)
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function readContext(clientId: number, requestId: number): Uint8Array {
  return encoder.encode(`${clientId}:${requestId}`)
}

function readContextClient(ctx: Uint8Array): number {
  return Number(decoder.decode(ctx).split(':')[0])
}

function readContextMatches(ctx: Uint8Array, read: PendingRead): boolean {
  return decoder.decode(ctx) === `${read.clientId}:${read.requestId}`
}

