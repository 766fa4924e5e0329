// One replica of one shard: a Raft core, its in-memory log, the shard's state
// machine, and the loop that handles each Ready in the order its contract
// demands (persist, then send, then apply, then advance). The ShardActor wraps
// it; keeping the logic in a plain class lets tests drive it with fake ports.
//
// Persistence is asynchronous (the WAL writer runs on its own thread and
// fsyncs for all shards at once). While one Ready is being persisted, new
// proposals and messages keep going into the core; the next Ready carries all
// of them, so one fsync commits whatever arrived meanwhile.
import { Packr, Unpackr } from 'msgpackr'
import type { Logger } from 'pino'
import {
  MemoryStorage,
  RawNode,
  countWithinSize,
  createRng,
  decodeConfChange,
  lostLeaderCampaignTicks,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type RaftRole,
  type Ready,
  type Snapshot,
} from '../src/raft/index.js'
import {
  ShardMachine,
  SnapshotParts,
  assembleParts,
  type ApplyResult,
  type DeadLetterEffect,
  type KvEntryView,
  type QueueReceiveCommand,
  type ShardCommand,
  type ShardEffect,
} from '../src/machines/index.js'
import { WAL_DEFAULTS, type DurableAck, type LogEntry, type ShardState, type ShardWrite } from '../src/wal/index.js'

/** What a replica needs from the node around it. */
export interface ShardPorts {
  wal: {
    append(write: ShardWrite): Promise<DurableAck>
    state(shard: number): Promise<ShardState>
    read(shard: number, fromIndex: number, toIndexExclusive: number): Promise<LogEntry[]>
  }
  snapshots: {
    save(meta: { shard: number; index: number; term: number }, payload: Uint8Array): Promise<unknown>
    load(shard: number): Promise<{ index: number; term: number; payload: Uint8Array } | undefined>
  }
  /** Raft messages for other nodes (empty on a single node). */
  send(messages: Message[]): void
  /** Dead-letter moves and other cross-shard work the leader performs. */
  deadLetter(effect: DeadLetterEffect): void
  /** The replica can no longer go on (its WAL failed): crash it. */
  fail(error: Error): void
  log: Logger
  /** Wall clock for the leader's stamps; injectable for tests. */
  nowMs(): number
  /**
   * A node that joined the cluster and its peer address, as this replica
   * learns them from the log (a membership change that carries the address)
   * or from a snapshot. The same node may be told more than once.
   */
  member?(id: number, peer: string): void
  /**
   * A node removed from the cluster, as this replica learns it from the log
   * (a membership change that removes it) or from a snapshot. The same node
   * may be told more than once.
   */
  departed?(id: number): void
}

export interface ShardReplicaOptions {
  shard: number
  nodeId: number
  /**
   * The shard's replicas in order of preference (the first leads when it
   * can): the initial members of a new group, and the replicas the leader
   * adds while the node's member list grows (see setReplicas).
   */
  voters: number[]
  /**
   * Whether a replica with neither snapshot nor log starts a new group with
   * `voters` (an initial member), or waits, empty, for its leader's snapshot
   * (a node that joined a running cluster). Default true.
   */
  bootstrap: boolean
  electionTicks: number
  heartbeatTicks: number
  /**
   * Take a snapshot after this many applied entries (the first listed
   * replica; the others wait a little longer, see snapshotEvery).
   */
  snapshotEveryEntries: number
  /**
   * Also take one once the entries applied since the last snapshot hold this
   * many bytes, or as many as that snapshot, whichever is more: the log in
   * memory stays within about the state's own size, and a snapshot is never
   * written more often than the state it copies has been written anew.
   */
  snapshotEveryBytes: number
  /** Entries kept in memory behind a snapshot for followers that lag a little... */
  entriesKeptAfterSnapshot: number
  /** ...holding at most this many bytes. */
  bytesKeptAfterSnapshot: number
  readOnly: 'safe' | 'lease-based'
  /** Seed of the election-timeout randomness. */
  seed: number
  /** Long-poll receives parked per shard; beyond it they answer empty at once. */
  parkedReceivesMax: number
  /** Linearizable reads waiting per shard; beyond it UNAVAILABLE. */
  pendingReadsMax: number
  /**
   * Hand leadership to the shard's preferred replica (the first voter) once
   * it is caught up: leaders return to being spread across nodes after a
   * node restarts, instead of piling up on the survivors.
   */
  balanceLeader: boolean
  /** Ticks a leader keeps leadership before it hands it to the preferred replica (damps flapping). */
  balanceAfterTicks: number
}

export const shardReplicaDefaults = {
  electionTicks: 10,
  heartbeatTicks: 1,
  snapshotEveryEntries: 20_000,
  snapshotEveryBytes: 64 * 1024 * 1024,
  entriesKeptAfterSnapshot: 1_000,
  bytesKeptAfterSnapshot: 16 * 1024 * 1024,
  readOnly: 'safe' as const,
  parkedReceivesMax: 10_000,
  pendingReadsMax: 100_000,
  balanceLeader: true,
  balanceAfterTicks: 50,
  bootstrap: true,
}

export type ShardErrorCode =
  | 'NOT_LEADER'
  | 'UNAVAILABLE' // known not applied: safe to retry
  | 'TIMEOUT' // outcome unknown
  | 'QUEUE_NOT_FOUND'
  | 'RECEIPT_NOT_FOUND'
  | 'KEY_NOT_FOUND'
  | 'CONFLICT'
  | 'QUEUE_FULL'
  | 'INVALID_ARGUMENT'

export interface ShardError {
  code: ShardErrorCode
  message: string
  leaderId?: number
  missing?: string[]
}

export type ShardReply<T> = { ok: true; value: T } | { ok: false; error: ShardError }

export interface ShardStatus {
  shard: number
  nodeId: number
  role: RaftRole
  leader: number
  term: number
  commitIndex: number
  appliedIndex: number
  lastIndex: number
  members: number[]
  /** Replicas that receive the log but do not vote yet (a node that joined, catching up). */
  learners: number[]
  /** Can serve: a leader that caught up, or a follower that knows its leader. */
  ready: boolean
  parkedReceives: number
  /** Proposals waiting for commit, and the requests (proposals, reads) held while leadership changes hands. */
  pendingProposals: number
  /** Snapshots received from a leader since this replica started (a follower too far behind the log). */
  snapshotsInstalled: number
  /** Leaderships handed to the preferred replica by this replica since it started. */
  balanceTransfers: number
}

interface Waiter {
  term: number
  resolve(result: ApplyResult<unknown>): void
  reject(error: ShardError): void
}

/** A proposal or a linearizable read that came while leadership was changing hands (see hold). */
interface HeldRequest {
  /** Runs the request again here (this replica leads). */
  retry(): void
  /** Answers the request without running it. */
  refuse(error: ShardError): void
}

/** How often a leader compares the shard's members with its replicas (see reconcileMembers). */
const reconcileEveryTicks = 10

/** A learner this close to the commit index is promoted to voter. */
const learnerCaughtUpEntries = 1_000

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** How often the preferred replica campaigns again while it starts and knows no leader. */
const startCampaignEveryTicks = 2

/** Entry bytes per WAL write: half the WAL's batch bound, which one write must fit (the node runs the WAL with its defaults). */
const walWriteBytesMax = WAL_DEFAULTS.batchBytesMax / 2

/** Requests held per shard while leadership changes hands; beyond it UNAVAILABLE at once. */
const heldRequestsMax = 10_000

interface ParkedReceive {
  command: QueueReceiveCommand
  /** Names the wait for cancelReceive(); absent when the caller cannot cancel. */
  waitId: string | undefined
  deadlineMs: number
  timer: NodeJS.Timeout
  resolve(reply: ShardReply<unknown>): void
}

interface ReadBatch {
  id: number
  /** Known once the ReadIndex answer arrived. */
  index: number | undefined
  reads: { key: string; resolve(reply: ShardReply<KvEntryView | null>): void }[]
}

// Entries carry [leader's clock, command]; plain msgpack, no shared
// structures, so any replica and any later version decodes them.
/** Cancels remembered for receives that had not parked yet; older ones are forgotten. */
const cancelledWaitsMax = 1_024

const entryPackr = new Packr({ useRecords: false })
const entryUnpackr = new Unpackr({ useRecords: false })

const NORMAL_KIND = 0
const CONF_KIND = 1

function notLeader(shard: number, leaderId: number): ShardError {
  return leaderId > 0
    ? { code: 'NOT_LEADER', message: `node does not lead shard ${shard}; node ${leaderId} does`, leaderId }
    : { code: 'UNAVAILABLE', message: `shard ${shard} has no leader right now` }
}

export class ShardReplica {
  readonly shard: number
  private readonly options: ShardReplicaOptions
  private readonly ports: ShardPorts
  private readonly log: Logger
  private storage!: MemoryStorage
  private raw!: RawNode
  private machine!: ShardMachine
  private confState!: ConfState
  /** The replicas this shard should have, in order of preference (see setReplicas). */
  private replicaSet: number[]
  /** Peer addresses of the nodes that joined, from membership changes that carried one (shard 0's joins). */
  private readonly addresses = new Map<number, string>()
  /** Nodes removed from this shard by a membership change; an id once removed does not join again. */
  private readonly removed = new Set<number>()
  /** The nodes the node's member list says were removed from the cluster: the leader removes them (see setReplicas). */
  private departedMembers: readonly number[] = []
  private role: RaftRole = 'follower'
  private ticksAsLeader = 0
  private snapshotsInstalled = 0
  private balanceTransfers = 0
  private leader = 0
  private term = 0
  private persisting = false
  private pumpScheduled = false
  private finishing = false
  private closed = false
  private leaving = false
  /** Last index in the WAL for this shard (to know when a write truncates). */
  private walLastIndex = 0
  private bootstrapMark: { index: number; term: number } | undefined
  private unsyncedHardState: HardState | undefined
  private appliedSinceSnapshot = 0
  private appliedBytesSinceSnapshot = 0
  /** The size of the newest snapshot (taken, installed or recovered). */
  private snapshotBytes = 0
  /** Applied entries between two snapshots of this replica (set in the constructor). */
  private readonly snapshotEvery: number
  /** snapshotEveryBytes with the same stagger between replicas as snapshotEvery. */
  private readonly snapshotEveryBytes: number
  /** Last log index applied, no-ops and membership entries included (the machine counts only its commands). */
  private appliedIndex = 0
  private termStartIndex = Number.POSITIVE_INFINITY
  private snapshotting = false
  /** The leader's clock never goes backwards, even if the wall clock does. */
  private lastStampMs = 0
  private readonly waiters = new Map<number, Waiter>()
  private readonly parked = new Map<string, ParkedReceive[]>()
  private parkedCount = 0
  private readonly parkedByWaitId = new Map<string, ParkedReceive>()
  /** Cancels that found no parked receive (it was still proposing): it must not park. Bounded, oldest forgotten first. */
  private readonly cancelledWaits = new Set<string>()
  private readBatches: ReadBatch[] = []
  private nextReadBatchId = 1
  private queuedReads: ReadBatch['reads'] = []
  private pendingReadCount = 0
  private tickProposed = false
  /** Ticks since this replica started. */
  private ticks = 0
  private held: HeldRequest[] = []
  /** The tick of the oldest held request. */
  private heldSince = 0
  /**
   * The tick this replica lost leadership, or lost its leader (see
   * peerDown); cleared once it knows a leader (see awaitingWinner).
   */
  private leaderLostAt: number | undefined
  /** Whether this replica has known a leader since it started (see campaignAtStart). */
  private seenLeader = false

  constructor(options: ShardReplicaOptions, ports: ShardPorts) {
    this.shard = options.shard
    this.options = options
    this.replicaSet = [...options.voters]
    // The replicas of a shard apply the same entries at about the same time:
    // with one period they would all snapshot at once, and a large snapshot
    // takes CPU and disk from the quorum that commits. Each replica's period
    // is a little longer than the previous one's (x1, x1.17, x1.33 for three),
    // so they rarely coincide and at most one is busy while two commit.
    const position = Math.max(0, options.voters.indexOf(options.nodeId))
    this.snapshotEvery = options.snapshotEveryEntries + Math.floor((options.snapshotEveryEntries * position) / (2 * options.voters.length))
    // Likewise the shards of one node under an even load: each starts at its
    // own point of the period, so their snapshots come one after another.
    this.appliedSinceSnapshot = snapshotHeadStart(options.shard, this.snapshotEvery)
    this.snapshotEveryBytes = Math.floor((options.snapshotEveryBytes * this.snapshotEvery) / options.snapshotEveryEntries)
    this.ports = ports
    this.log = ports.log
  }

  /** Rebuilds the replica from its newest snapshot and the WAL, then starts the Raft core. */
  async recover(): Promise<void> {
    const { shard } = this
    const walState = await this.ports.wal.state(shard)
    const loaded = await this.ports.snapshots.load(shard)
    let storage: MemoryStorage
    let applied: number
    if (loaded) {
      const payload = readSnapshotPayload(loaded.payload)
      this.machine = payload.m !== undefined && payload.m.byteLength > 0 ? ShardMachine.restore(payload.m) : new ShardMachine(shard)
      this.snapshotBytes = loaded.payload.byteLength
      storage = new MemoryStorage()
      const confState = payload.c ?? { voters: [...this.options.voters], learners: [] }
      storage.applySnapshot({ metadata: { index: loaded.index, term: loaded.term, confState }, data: loaded.payload })
      applied = loaded.index
      this.learnMembership(payload)
    } else if (this.options.bootstrap) {
      storage = MemoryStorage.bootstrap({ voters: [...this.options.voters], learners: [] })
      this.machine = new ShardMachine(shard)
      applied = storage.snapshot().metadata.index
    } else {
      // A replica on a node that joined: empty until its leader's snapshot comes.
      storage = new MemoryStorage()
      this.machine = new ShardMachine(shard)
      applied = 0
    }
    if (walState.snapshotIndex > applied) {
      throw new Error(
        `shard ${shard}: the WAL was compacted through ${walState.snapshotIndex} but the newest readable snapshot ends at ${applied}`,
      )
    }
    const from = Math.max(applied + 1, walState.firstIndex)
    for (let next = from; next <= walState.lastIndex; ) {
      const entries = await this.ports.wal.read(shard, next, walState.lastIndex + 1)
      if (entries.length === 0) throw new Error(`shard ${shard}: WAL read returned nothing at ${next}`)
      storage.append(entries.map(toRaftEntry))
      next = entries[entries.length - 1]!.index + 1
    }
    this.walLastIndex = Math.max(walState.lastIndex, walState.snapshotIndex)
    if (this.walLastIndex === 0 && !loaded && applied > 0) {
      // A new group starts from the bootstrap snapshot (index 1, no file):
      // its mark goes with the first write so the WAL expects index 2 next.
      const { index, term } = storage.snapshot().metadata
      this.bootstrapMark = { index, term }
    }
    if (walState.hardState) {
      const commit = Math.min(walState.hardState.commit, storage.lastIndex())
      storage.setHardState({ ...walState.hardState, commit: Math.max(commit, storage.initialState().hardState.commit) })
    }
    this.storage = storage
    this.appliedIndex = applied
    this.confState = storage.initialState().confState
    this.term = storage.initialState().hardState.term
    this.raw = new RawNode({
      id: this.options.nodeId,
      storage,
      rng: createRng(this.options.seed),
      electionTicks: this.options.electionTicks,
      heartbeatTicks: this.options.heartbeatTicks,
      applied,
      preVote: true,
      checkQuorum: true,
      readOnly: this.options.readOnly,
      // Followers learn a new commit index from the next append or heartbeat
      // (every tick) rather than from an empty append of its own: under load
      // that halves the Raft messages of a round (see BENCHMARKS.md).
      broadcastCommit: false,
    })
    this.log.info(
      { snapshotIndex: applied, lastIndex: storage.lastIndex(), term: this.term, commit: storage.initialState().hardState.commit },
      'shard recovered',
    )
    // The first listed replica campaigns at once: a single node leads without
    // waiting an election timeout, and a cluster's leaders start out spread
    // (replicasOf rotates the list per shard).
    if (this.replicaSet[0] === this.options.nodeId) this.raw.campaign()
    this.pump()
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    if (this.closed) return
    this.raw.tick()
    this.ticks++
    this.ticksAsLeader = this.role === 'leader' ? this.ticksAsLeader + 1 : 0
    if (!this.seenLeader) this.campaignAtStart()
    this.maybeProposeTick()
    this.maybeBalance()
    this.reconcileMembers()
    this.pump()
    this.settleHeld()
  }

  /**
   * The preferred replica campaigns when it starts, but its peers' links are
   * often not up yet (the nodes of a cluster start at about the same time),
   * so that campaign is lost and the first replica whose election timer
   * fires, any of them, wins a second later. Until it has known a leader,
   * the preferred replica campaigns again every few ticks. Its campaigns
   * start with a pre-vote, which changes no term and no vote, so trying
   * often disturbs no one. A cluster thus starts faster, with its leaders
   * where balancing would have moved them a few seconds later.
   */
  private campaignAtStart(): void {
    if (this.replicaSet[0] !== this.options.nodeId || this.replicaSet.length === 1) return
    if (this.ticks % startCampaignEveryTicks !== 0) return
    if (this.role === 'follower' || this.role === 'preCandidate') this.raw.campaign()
  }

  /**
   * The replicas this shard should have, in order of preference, as the
   * node's member list now gives them. The leader adds the missing ones
   * (see reconcileMembers); the first one is the preferred leader.
   */
  setReplicas(ids: number[], departed: number[] = []): void {
    if (ids.length === 0 || ids.some((id) => !Number.isSafeInteger(id) || id <= 0)) return
    this.replicaSet = [...ids]
    this.departedMembers = departed.filter((id) => !ids.includes(id))
  }

  /**
   * Adds node `id`, which serves peers at `peer`, to this shard as a learner
   * (the leader then promotes it once it has caught up), with its address in
   * the membership change so that every replica learns it from the log.
   * Answers once the change is applied. A node that is already a member at
   * the same address is answered at once (a join tried again); at another
   * address, or an initial member, with CONFLICT. A node that would make
   * the shard's members more than `membersMax` is refused with
   * INVALID_ARGUMENT: decided here, on the leader, one membership change
   * at a time, so two nodes that join at once through different members
   * cannot both pass.
   */
  join(id: number, peer: string, membersMax: number): Promise<ShardReply<null>> {
    if (this.closed) return Promise.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'the shard is stopping' } })
    if (this.role !== 'leader') return Promise.resolve({ ok: false, error: notLeader(this.shard, this.leader) })
    const { voters, learners } = this.confState
    if (this.removed.has(id)) {
      return Promise.resolve({ ok: false, error: { code: 'CONFLICT', message: `node id ${id} was removed from this cluster: a new node joins with a new id` } })
    }
    if (voters.includes(id) || learners.includes(id)) {
      const known = this.addresses.get(id)
      if (known === peer) return Promise.resolve({ ok: true, value: null })
      const where = known === undefined ? 'an initial member of the cluster' : `a member at ${known}`
      return Promise.resolve({ ok: false, error: { code: 'CONFLICT', message: `node id ${id} is taken: it is ${where}` } })
    }
    if (voters.length + learners.length >= membersMax) {
      const message = `the cluster has ${voters.length + learners.length} members; a cluster grows by joining to at most ${membersMax} (larger clusters start with every member in --cluster)`
      return Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', message } })
    }
    this.log.info({ node: id, peer }, 'adding a node that joins as a learner')
    return this.changeMembers({ type: 'addLearner', nodeId: id, context: utf8.encode(peer) })
  }

  /**
   * Removes node `id` from the cluster: asked of shard 0's leader, whose log
   * decides the members (every node then drops it from its member list, and
   * each shard's leader removes its replica there; see reconcileMembers).
   * Answers once the change is applied. A node removed before is answered
   * at once; one that never was a member, and the shard's only voter, get
   * INVALID_ARGUMENT.
   */
  removeMember(id: number): Promise<ShardReply<null>> {
    if (this.closed) return Promise.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'the shard is stopping' } })
    if (this.role !== 'leader') return Promise.resolve({ ok: false, error: notLeader(this.shard, this.leader) })
    const { voters, learners } = this.confState
    if (this.removed.has(id)) return Promise.resolve({ ok: true, value: null })
    if (!voters.includes(id) && !learners.includes(id)) {
      return Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `node ${id} is not a member of the cluster` } })
    }
    if (voters.length === 1 && voters[0] === id) {
      return Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `node ${id} is the cluster's only voting member` } })
    }
    this.log.info({ node: id }, 'removing a node from the cluster')
    return this.changeMembers({ type: 'removeVoter', nodeId: id })
  }

  /** Proposes one membership change; answers once it is applied. */
  private changeMembers(change: ConfChange): Promise<ShardReply<null>> {
    const result = this.raw.proposeConfChange(change)
    if (!result.ok) {
      const code = result.code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'UNAVAILABLE'
      return Promise.resolve({ ok: false, error: result.code === 'NOT_LEADER' ? notLeader(this.shard, result.leaderId ?? 0) : { code, message: `shard ${this.shard}: ${result.message}` } })
    }
    const promise = new Promise<ShardReply<null>>((resolve) => {
      this.waiters.set(result.lastIndex, {
        term: result.term,
        resolve: () => resolve({ ok: true, value: null }),
        reject: (error) => resolve({ ok: false, error }),
      })
    })
    this.pumpSoon()
    return promise
  }

  /**
   * The leader brings the shard's members to its replica set, one change at
   * a time: a missing replica is added as a learner (it receives the log or
   * a snapshot, and does not count for commits), and a learner that has
   * caught up is made a voter. Then a member that the node's member list
   * says was removed from the cluster is removed here (a shard that the
   * removed node led is removed from by its next leader: a node never lists
   * itself as removed). Any other member outside the set is left as it is:
   * the set only grows by joins, and shrinks only by a removal that shard 0
   * decided (see docs/ARCHITECTURE.md).
   */
  private reconcileMembers(): void {
    if (this.role !== 'leader' || this.leaving || this.ticks % reconcileEveryTicks !== 0 || !this.leaderCaughtUp || this.raw.leadTransferee !== 0) return
    // The membership as applied here (what the core holds); progress is looked up only for a learner to promote.
    const { voters, learners } = this.confState
    let change: ConfChange | undefined
    const missing = this.replicaSet.find((id) => !voters.includes(id) && !learners.includes(id))
    if (missing !== undefined) {
      // Without an address: shard 0's join carried it, and only shard 0's log tells the node.
      change = { type: 'addLearner', nodeId: missing }
    } else if (learners.some((id) => this.replicaSet.includes(id))) {
      const status = this.raw.status()
      const caughtUp = learners.find((id) => {
        const progress = status.progress.get(id)
        return this.replicaSet.includes(id) && progress !== undefined && progress.match > 0 && status.commit - progress.match <= learnerCaughtUpEntries
      })
      if (caughtUp !== undefined) change = { type: 'addVoter', nodeId: caughtUp }
    }
    if (change === undefined) {
      const gone = this.departedMembers.find((id) => voters.includes(id) || learners.includes(id))
      if (gone !== undefined && (voters.length > 1 || voters[0] !== gone)) change = { type: 'removeVoter', nodeId: gone }
    }
    if (change === undefined) return
    const result = this.raw.proposeConfChange(change)
    if (result.ok) this.log.info({ change: change.type, node: change.nodeId, index: result.lastIndex }, 'membership change proposed')
  }

  /** The joined nodes' addresses and the removed nodes a snapshot records. */
  private learnMembership(payload: SnapshotPayload): void {
    this.learnAddresses(payload.a ?? [])
    this.learnRemoved(payload.r ?? [])
  }

  private learnRemoved(ids: Iterable<number>): void {
    for (const id of ids) {
      if (this.removed.has(id)) continue
      this.removed.add(id)
      this.addresses.delete(id)
      this.ports.departed?.(id)
    }
  }

  private learnAddresses(addresses: Iterable<[number, string]>): void {
    for (const [id, peer] of addresses) {
      if (this.addresses.get(id) === peer) continue
      this.addresses.set(id, peer)
      this.ports.member?.(id, peer)
    }
  }

  /** A leader that is not the preferred replica hands over once the preferred one has every entry. */
  private maybeBalance(): void {
    const preferred = this.replicaSet[0]!
    if (!this.options.balanceLeader || this.role !== 'leader' || preferred === this.options.nodeId) return
    if (this.ticksAsLeader < this.options.balanceAfterTicks || !this.leaderCaughtUp) return
    const status = this.raw.status()
    if (status.leadTransferee !== 0 || !status.confState.voters.includes(preferred)) return
    const progress = status.progress.get(preferred)
    if (!progress || !progress.recentActive || progress.match < status.lastIndex) return
    if (this.raw.transferLeadership(preferred).ok) {
      this.balanceTransfers++
      this.ticksAsLeader = 0
      this.log.info({ to: preferred }, 'handing leadership to the preferred replica')
    }
  }

  step(messages: Message[]): void {
    if (this.closed) return
    for (const message of messages) {
      // A node on its way out takes no leadership handed to it (a leader
      // balancing back to its preferred replica does not know it is stopping).
      if (this.leaving && message.type === 'timeoutNow') continue
      if (message.entries.length > 0) ownEntryData(message.entries)
      this.raw.step(message)
    }
    this.pump()
  }

  /** The node is stopping: refuse leadership transfers from now on. */
  leave(): void {
    this.leaving = true
  }

  /**
   * The connection to node `id` closed. If it was this follower's leader,
   * the leader is most likely gone (a killed process's sockets close at
   * once): forget it (Raft.forgetLeader) and campaign soon, instead of
   * naming a dead leader to every caller until the election timeout runs
   * out. The surviving replicas campaign one after the other in the
   * shard's order of preference, two ticks apart, so they do not split the
   * vote (the core's election timer fires then; a leader heard meanwhile
   * resets it). Each campaign starts with a pre-vote, which members that
   * still hear the leader refuse. Requests that come meanwhile are held
   * until the winner is known, as after a step-down (see hold). With
   * lease-based reads the leader is kept until its lease has run out (the
   * core campaigns in turn right after), and requests name it meanwhile.
   */
  peerDown(id: number): void {
    if (this.closed || this.role !== 'follower' || this.leader !== id) return
    // A stopping node takes no leadership (see leave): it forgets the leader, so that it can vote, and leaves the campaign to the others.
    const campaignInTicks = this.leaving ? undefined : lostLeaderCampaignTicks(this.replicaSet, this.options.nodeId, id)
    // With lease-based reads the core keeps the leader until its lease has run out (see Raft.forgetLeader).
    const forgotten = this.raw.forgetLeader(campaignInTicks)
    this.log.info({ leader: id, campaignInTicks, ...(forgotten ? {} : { keptForItsLease: true }) }, 'lost the connection to the leader')
    if (!forgotten) return
    this.leader = 0
    this.leaderLostAt = this.ticks
    this.pump()
  }

  /** Proposes a command; resolves once it is applied (or known not to be). */
  propose(command: ShardCommand): Promise<ShardReply<unknown>> {
    if (this.closed) return Promise.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'the shard is stopping' } })
    const data = entryPackr.pack([this.stamp(), command])
    const result = this.raw.propose(data)
    if (!result.ok) {
      // During a hand-over, and after it until this replica hears who won.
      const inFlux = result.code === 'TRANSFER_IN_PROGRESS' || (result.code === 'NOT_LEADER' && (result.leaderId ?? 0) === 0 && this.awaitingWinner())
      if (inFlux && this.held.length < heldRequestsMax) {
        return new Promise((resolve) =>
          this.hold({ retry: () => void this.propose(command).then(resolve), refuse: (error) => resolve({ ok: false, error }) }),
        )
      }
      const error: ShardError =
        result.code === 'NOT_LEADER'
          ? notLeader(this.shard, result.leaderId ?? 0)
          : { code: 'UNAVAILABLE', message: `shard ${this.shard}: ${result.message}` }
      return Promise.resolve({ ok: false, error })
    }
    const promise = new Promise<ShardReply<unknown>>((resolve) => {
      this.waiters.set(result.lastIndex, {
        term: result.term,
        resolve: (applied) => resolve(applied.ok ? applied : { ok: false, error: applied.error as ShardError }),
        reject: (error) => resolve({ ok: false, error }),
      })
    })
    this.pumpSoon()
    return promise
  }

  /**
   * A leader handing its leadership over refuses proposals until the handover
   * ends, which takes a round trip or two; once it has stepped down, it knows
   * no leader until the winner's first message. Instead of refusing (the
   * caller would back off for longer than all that takes), the proposal waits
   * here: it is proposed again if this replica leads again (the handover
   * failed), and answered NOT_LEADER with the new leader once that leader is
   * known, so the caller goes there at once. Nothing was appended, so every
   * answer is exact. Linearizable reads that find this replica stepped down,
   * or that it had not answered when it stepped down, wait the same way. So
   * do requests to a follower whose leader's connection just closed (see
   * peerDown): an election is about to start. A replica that did not just
   * lose leadership or its leader, or did more than two election timeouts
   * ago, still refuses at once when it knows no leader (it may be cut off
   * from the others).
   */
  private hold(request: HeldRequest): void {
    if (this.held.length === 0) this.heldSince = this.ticks
    this.held.push(request)
  }

  /**
   * Lost leadership, or its leader's connection, at most two election
   * timeouts ago and knows no leader yet: the winner is about to speak.
   * Later, this replica is more likely cut off from the others.
   */
  private awaitingWinner(): boolean {
    return this.leader === 0 && this.leaderLostAt !== undefined && this.ticks - this.leaderLostAt <= 2 * this.options.electionTicks
  }

  private takeHeld(): HeldRequest[] {
    const held = this.held
    this.held = []
    return held
  }

  /** Settles the held requests once the handover has ended either way (after ready or tick). */
  private settleHeld(): void {
    if (this.held.length === 0) return
    let settle: (held: HeldRequest) => void
    if (this.role === 'leader' && this.raw.leadTransferee === 0) {
      settle = (held) => held.retry()
    } else if (this.role !== 'leader' && this.leader > 0) {
      const error = notLeader(this.shard, this.leader)
      settle = (held) => held.refuse(error)
    } else if (this.ticks - this.heldSince > 2 * this.options.electionTicks) {
      // A handover ends within an election timeout; here no leader came out of it in twice that.
      const error = notLeader(this.shard, 0)
      settle = (held) => held.refuse(error)
    } else {
      return
    }
    for (const request of this.takeHeld()) settle(request)
  }

  /** A read that found no leader while this replica was stepping down: held like a proposal (see hold). */
  private holdRead(key: string, resolve: (reply: ShardReply<KvEntryView | null>) => void): void {
    this.hold({ retry: () => void this.read(key, false).then(resolve), refuse: (error) => resolve({ ok: false, error }) })
  }

  /** A receive that waits up to `waitMs` for messages when the queue is empty. */
  async receive(command: QueueReceiveCommand, waitMs: number, waitId?: string): Promise<ShardReply<unknown>> {
    const first = await this.propose(command)
    if (!first.ok || waitMs <= 0 || (first.value as { messages: unknown[] }).messages.length > 0) return first
    if (waitId !== undefined && this.cancelledWaits.delete(waitId)) return first
    if (this.parkedCount >= this.options.parkedReceivesMax) return first
    return new Promise((resolve) => {
      const parked: ParkedReceive = {
        command,
        waitId,
        deadlineMs: Date.now() + waitMs,
        timer: setTimeout(() => {
          this.unpark(parked)
          resolve(first)
        }, waitMs),
        resolve,
      }
      const list = this.parked.get(command.queue) ?? []
      list.push(parked)
      this.parked.set(command.queue, list)
      this.parkedCount++
      if (waitId !== undefined) this.parkedByWaitId.set(waitId, parked)
    })
  }

  /**
   * Ends a parked long-poll receive at once with an empty answer, so a client
   * that went away takes no message. A receive that is proposing when the
   * cancel comes (not parked yet) does not park afterwards; what that
   * proposal delivers still goes to the caller. Answers whether a parked
   * receive was found.
   */
  cancelReceive(waitId: string): ShardReply<boolean> {
    const parked = this.parkedByWaitId.get(waitId)
    if (parked === undefined) {
      this.cancelledWaits.add(waitId)
      if (this.cancelledWaits.size > cancelledWaitsMax) this.cancelledWaits.delete(this.cancelledWaits.values().next().value!)
      return { ok: true, value: false }
    }
    clearTimeout(parked.timer)
    this.unpark(parked)
    parked.resolve({ ok: true, value: { messages: [] } })
    return { ok: true, value: true }
  }

  /** A linearizable read (ReadIndex), or a local one when `stale`. */
  read(key: string, stale: boolean): Promise<ShardReply<KvEntryView | null>> {
    if (stale) return Promise.resolve({ ok: true, value: this.machine.kvGet(key, Date.now()) ?? null })
    if (this.role !== 'leader') {
      if (this.awaitingWinner() && this.held.length < heldRequestsMax) return new Promise((resolve) => this.holdRead(key, resolve))
      return Promise.resolve({ ok: false, error: notLeader(this.shard, this.leader) })
    }
    if (this.pendingReadCount >= this.options.pendingReadsMax) {
      return Promise.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: `shard ${this.shard}: too many reads waiting` } })
    }
    this.pendingReadCount++
    return new Promise((resolve) => {
      this.queuedReads.push({ key, resolve })
      this.startReadBatch()
    })
  }

  /** Leader-only local views (queue stats, config, names): fresh but not linearizable. */
  view<T>(look: (machine: ShardMachine) => T): ShardReply<T> {
    if (this.role !== 'leader') return { ok: false, error: notLeader(this.shard, this.leader) }
    if (!this.leaderCaughtUp) return { ok: false, error: { code: 'UNAVAILABLE', message: `shard ${this.shard}: the new leader is catching up` } }
    return { ok: true, value: look(this.machine) }
  }

  transferLeadership(to: number): ShardReply<null> {
    const result = this.raw.transferLeadership(to)
    this.pump()
    return result.ok ? { ok: true, value: null } : { ok: false, error: { code: 'UNAVAILABLE', message: result.message } }
  }

  status(): ShardStatus {
    const status = this.raw.status()
    return {
      shard: this.shard,
      nodeId: this.options.nodeId,
      role: status.role,
      leader: status.lead,
      term: status.term,
      commitIndex: status.commit,
      appliedIndex: status.applied,
      lastIndex: status.lastIndex,
      members: [...status.confState.voters],
      learners: [...status.confState.learners],
      ready: this.role === 'leader' ? this.leaderCaughtUp : status.lead !== 0,
      parkedReceives: this.parkedCount,
      pendingProposals: this.waiters.size + this.held.length,
      snapshotsInstalled: this.snapshotsInstalled,
      balanceTransfers: this.balanceTransfers,
    }
  }

  get isLeader(): boolean {
    return this.role === 'leader'
  }

  /** A leader that has applied everything committed before its term. */
  get leaderCaughtUp(): boolean {
    return this.role === 'leader' && this.appliedIndex >= this.termStartIndex
  }

  /** Fails everything waiting; the replica takes no more work. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.failWaiters({ code: 'TIMEOUT', message: `shard ${this.shard} stopped: the outcome is unknown` })
    this.failReads({ code: 'UNAVAILABLE', message: `shard ${this.shard} stopped` })
    for (const request of this.takeHeld()) request.refuse({ code: 'UNAVAILABLE', message: `shard ${this.shard} stopped` })
    for (const list of this.parked.values()) for (const parked of list) clearTimeout(parked.timer)
    for (const list of this.parked.values()) for (const parked of list) parked.resolve({ ok: true, value: { messages: [] } })
    this.parked.clear()
    this.parkedCount = 0
    this.parkedByWaitId.clear()
  }

  // ---------------------------------------------------------------- the Ready loop

  /**
   * Pumps once the current turn is over: the proposals that arrived in the
   * same batch of frames all go into one Ready (one WAL write) instead of the
   * first taking a Ready of its own.
   */
  private pumpSoon(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump(): void {
    for (let round = 0; round < 1000; round++) {
      // Work started while a Ready is being finished (a woken long-poll
      // proposing) waits for that Ready's advance(); finish() pumps again.
      if (this.closed || this.persisting || this.finishing || !this.raw.hasReady()) return
      const ready = this.raw.ready()
      this.observeSoftState(ready)
      // A leader sends its appends while it writes the same entries to its
      // own disk, so the followers' fsyncs overlap the leader's (the core
      // says when that is safe: Ready.sendFirst; finishReady sends the rest).
      if (ready.sendFirst && ready.messages.length > 0) this.ports.send(ready.messages)
      const needsDisk = ready.snapshot !== undefined || ready.entries.length > 0 || (ready.hardState !== undefined && ready.mustSync)
      if (!needsDisk) {
        this.finish(ready)
        continue
      }
      this.persisting = true
      this.persist(ready).then(
        (installed) => {
          this.persisting = false
          if (this.closed) return
          this.finish(ready, installed)
          this.pump()
        },
        (error: unknown) => {
          this.persisting = false
          this.ports.fail(error instanceof Error ? error : new Error(String(error)))
        },
      )
      return
    }
  }

  /** Writes what the Ready must make durable; returns its snapshot, decoded, if it has one. */
  private async persist(ready: Ready): Promise<InstalledSnapshot | undefined> {
    const write: ShardWrite = { shard: this.shard }
    let installed: InstalledSnapshot | undefined
    if (this.bootstrapMark) {
      write.snapshot = this.bootstrapMark
      this.walLastIndex = this.bootstrapMark.index
      this.bootstrapMark = undefined
    }
    if (ready.snapshot) {
      // A snapshot sent by the leader: its file first, then the WAL mark.
      const { index, term, confState } = ready.snapshot.metadata
      // A group's bootstrap snapshot has no data: its file says who the members are.
      const data = ready.snapshot.data.byteLength > 0 ? ready.snapshot.data : await assembleParts([snapshotPayloadPrefix(confState, [], [], 0)])
      await this.ports.snapshots.save({ shard: this.shard, index, term }, data)
      // Decoded here, in slices, while the Ready waits anyway: the thread's
      // other shards keep ticking (a large machine takes a second or more).
      const payload = readSnapshotPayload(ready.snapshot.data)
      const machine = payload.m !== undefined && payload.m.byteLength > 0 ? await ShardMachine.restoreInSlices(payload.m) : new ShardMachine(this.shard)
      installed = { machine, payload }
      write.snapshot = { index, term }
      this.walLastIndex = Math.max(this.walLastIndex, index)
    }
    const { entries } = ready
    if (entries.length > 0) {
      const first = entries[0]!.index
      if (first <= this.walLastIndex) write.truncateFrom = first
      this.walLastIndex = entries[entries.length - 1]!.index
    }
    const hardState = ready.hardState ?? this.unsyncedHardState
    this.unsyncedHardState = undefined
    // Entries beyond walWriteBytesMax (several large ones) go as several
    // writes, in order: the first with the snapshot mark and the
    // truncation, the last with the hard state.
    let part = write
    for (let start = 0; ; part = { shard: this.shard }) {
      const count = countWithinSize(entries, start, entries.length, walWriteBytesMax)
      if (count > 0) part.entries = (count === entries.length ? entries : entries.slice(start, start + count)).map(toLogEntry)
      start += count
      const last = start >= entries.length
      if (last && hardState) part.hardState = hardState
      await this.ports.wal.append(part)
      if (last) break
    }
    if (ready.snapshot) this.storage.applySnapshot(ready.snapshot)
    this.storage.append(ready.entries)
    if (ready.hardState) this.storage.setHardState(ready.hardState)
    return installed
  }

  /** `installed`: the Ready's snapshot, decoded while it was persisted. */
  private finish(ready: Ready, installed?: InstalledSnapshot): void {
    this.finishing = true
    try {
      this.finishReady(ready, installed)
    } finally {
      this.finishing = false
    }
  }

  private finishReady(ready: Ready, installed: InstalledSnapshot | undefined): void {
    if (ready.hardState && !ready.mustSync) {
      // Only the commit index moved: losing it in a crash is harmless (a
      // restarted replica re-learns it), so it rides along with the next
      // write that must be synced instead of costing an fsync of its own.
      this.storage.setHardState(ready.hardState)
      this.unsyncedHardState = ready.hardState
    }
    if (ready.messages.length > 0 && !ready.sendFirst) this.ports.send(ready.messages)
    if (ready.snapshot) this.restoreSnapshot(ready.snapshot, installed!)
    for (const entry of ready.committedEntries) this.apply(entry)
    for (const state of ready.readStates) {
      const id = readBatchId(state.requestCtx)
      const batch = this.readBatches.find((b) => b.id === id)
      if (batch) batch.index = state.index
    }
    this.serveReads()
    this.raw.advance()
    this.maybeSnapshot()
    this.settleHeld()
  }

  private observeSoftState(ready: Ready): void {
    if (ready.hardState) this.term = ready.hardState.term
    if (!ready.softState) return
    const wasLeader = this.role === 'leader'
    this.role = ready.softState.role
    this.leader = ready.softState.lead
    if (this.leader !== 0) {
      this.seenLeader = true
      this.leaderLostAt = undefined
    } else if (wasLeader && this.role !== 'leader') {
      this.leaderLostAt = this.ticks
    }
    if (wasLeader && this.role !== 'leader') {
      this.log.info({ term: this.term, leader: this.leader }, 'lost leadership')
      // Proposals in flight stay waiting: each is settled when this replica
      // applies its index, as a success if the entry there is still ours
      // (the next leader committed it) or as UNAVAILABLE if another entry
      // took its place (it never will commit). A caller that cannot wait
      // that long gets TIMEOUT from its own deadline.
      if (this.leader > 0) this.failReads(notLeader(this.shard, this.leader))
      else {
        // Who won is not known yet: the reads wait for it (see hold).
        const unavailable = notLeader(this.shard, 0)
        for (const read of this.takeReads()) {
          if (this.held.length < heldRequestsMax) this.holdRead(read.key, read.resolve)
          else read.resolve({ ok: false, error: unavailable })
        }
      }
      // Only a leader's applies wake parked long-polls: answer them now (empty) instead of at their deadline.
      for (const queue of [...this.parked.keys()]) this.releaseParked(queue, { ok: true, value: { messages: [] } })
    }
    if (!wasLeader && this.role === 'leader') {
      // The entry this leader appended on election; until it is applied the
      // machine may miss entries earlier leaders committed.
      const { lastIndex, term } = this.raw.status()
      this.termStartIndex = lastIndex
      // Proposals of an earlier leadership past the end of this leader's log
      // were never committed (a leader's log holds every committed entry)
      // and never will be: only this leader's entries go there now. After
      // this, a new proposal never finds an old waiter at its index.
      for (const [index, waiter] of this.waiters) {
        if (index <= lastIndex || waiter.term >= term) continue
        this.waiters.delete(index)
        waiter.reject(overwritten(this.shard))
      }
      this.log.info({ term: this.term }, 'became leader')
      // Dead-letter moves a previous leader left unfinished.
      queueMicrotask(() => {
        if (this.role === 'leader') for (const effect of this.machine.pendingDeadLetters()) this.ports.deadLetter(effect)
      })
    }
  }

  private apply(entry: Entry): void {
    this.appliedIndex = entry.index
    if (entry.type === 'conf') {
      const change = decodeConfChange(entry.data)
      this.confState = this.raw.applyConfChange(change)
      this.storage.setConfState(this.confState)
      this.log.info({ change: change.type, node: change.nodeId, voters: this.confState.voters, learners: this.confState.learners }, 'membership changed')
      if (change.type === 'removeVoter') this.learnRemoved([change.nodeId])
      else if (change.context !== undefined) this.learnAddresses([[change.nodeId, fromUtf8.decode(change.context)]])
      this.settleWaiter(entry, { ok: true, value: null })
    } else if (entry.data.byteLength > 0) {
      const [nowMs, command] = entryUnpackr.unpack(entry.data) as [number, ShardCommand]
      const output = this.machine.apply(command, { index: entry.index, nowMs, shard: this.shard })
      if (command.type === 'tick') this.tickProposed = false
      this.settleWaiter(entry, output.result)
      if (this.role === 'leader') this.perform(output.effects)
    } else {
      this.settleWaiter(entry, { ok: true, value: null })
    }
    this.appliedSinceSnapshot++
    this.appliedBytesSinceSnapshot += entry.data.byteLength
  }

  private settleWaiter(entry: Entry, result: ApplyResult<unknown>): void {
    const waiter = this.waiters.get(entry.index)
    if (!waiter) return
    this.waiters.delete(entry.index)
    if (waiter.term === entry.term) waiter.resolve(result)
    else waiter.reject(overwritten(this.shard))
  }

  private perform(effects: ShardEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'messages-available':
          this.wakeParked(effect.queue)
          break
        case 'queue-deleted':
          this.releaseParked(effect.queue, {
            ok: false,
            error: { code: 'QUEUE_NOT_FOUND', message: `queue '${effect.queue}' was deleted` },
          })
          break
        case 'dead-letter':
          this.ports.deadLetter(effect)
          break
      }
    }
  }

  private restoreSnapshot(snapshot: Snapshot, installed: InstalledSnapshot): void {
    this.machine = installed.machine
    // Proposals the snapshot covers are never applied here one by one: whether
    // they are in it, and with what result, is not known.
    for (const [index, waiter] of this.waiters) {
      if (index > snapshot.metadata.index) continue
      this.waiters.delete(index)
      waiter.reject({ code: 'TIMEOUT', message: `shard ${this.shard} caught up by snapshot past the proposal: the outcome is unknown` })
    }
    this.appliedIndex = snapshot.metadata.index
    this.confState = snapshot.metadata.confState
    this.learnMembership(installed.payload)
    this.appliedSinceSnapshot = 0
    this.appliedBytesSinceSnapshot = 0
    this.snapshotBytes = snapshot.data.byteLength
    this.snapshotsInstalled++
    this.log.info({ index: snapshot.metadata.index }, 'installed a snapshot from the leader')
  }

  private maybeSnapshot(): void {
    if (this.snapshotting) return
    const byCount = this.appliedSinceSnapshot >= this.snapshotEvery
    if (!byCount && this.appliedBytesSinceSnapshot < Math.max(this.snapshotEveryBytes, this.snapshotBytes)) return
    const applied = this.appliedIndex
    if (applied <= this.storage.snapshot().metadata.index || applied > this.storage.lastIndex()) return
    this.snapshotting = true
    this.appliedSinceSnapshot = 0
    this.appliedBytesSinceSnapshot = 0
    const term = this.storage.term(applied)
    const confState = this.confState
    // The state is captured now, in one pass; the copy of every body into the
    // snapshot's bytes runs in slices, so that this thread's shards keep
    // ticking and answering while a large state is written out.
    const started = performance.now()
    const machineParts = this.machine.snapshotParts()
    const captureMs = performance.now() - started
    void (async () => {
      try {
        await machineParts.resolveInTurns()
        const payload = await assembleParts([snapshotPayloadPrefix(confState, [...this.addresses], [...this.removed], machineParts.byteLength), machineParts])
        if (this.closed) return
        const encodeMs = performance.now() - started
        await this.ports.snapshots.save({ shard: this.shard, index: applied, term }, payload)
        const saveMs = performance.now() - started - encodeMs
        if (this.closed) return
        this.snapshotBytes = payload.byteLength
        if (applied > this.storage.snapshot().metadata.index) {
          this.storage.createSnapshot(applied, payload, confState)
          const compactTo = this.compactionPoint(applied)
          if (compactTo > this.storage.firstIndex()) this.storage.compact(compactTo)
        }
        await this.ports.wal.append({ shard: this.shard, snapshot: { index: applied, term } })
        this.log.info(
          { index: applied, bytes: payload.byteLength, captureMs: Math.round(captureMs), encodeMs: Math.round(encodeMs), saveMs: Math.round(saveMs) },
          'snapshot taken',
        )
      } catch (error) {
        this.log.warn({ err: error }, 'snapshot failed; will retry later')
      } finally {
        this.snapshotting = false
      }
    })()
  }

  /** Where to compact after a snapshot at `applied`: keep at most entriesKeptAfterSnapshot entries and bytesKeptAfterSnapshot bytes behind it. */
  private compactionPoint(applied: number): number {
    const compactTo = Math.max(applied - this.options.entriesKeptAfterSnapshot, this.storage.firstIndex() - 1)
    const kept = this.storage.entries(compactTo + 1, applied + 1, Number.MAX_SAFE_INTEGER)
    let bytes = 0
    for (let i = kept.length - 1; i >= 0; i--) {
      bytes += kept[i]!.data.byteLength
      if (bytes > this.options.bytesKeptAfterSnapshot) return kept[i]!.index
    }
    return compactTo
  }

  // ---------------------------------------------------------------- leader duties

  /** Time enters the log only here: the leader's stamp on each entry. */
  private stamp(): number {
    this.lastStampMs = Math.max(this.lastStampMs, this.ports.nowMs())
    return this.lastStampMs
  }

  private maybeProposeTick(): void {
    if (this.role !== 'leader' || this.tickProposed) return
    const due = this.machine.nextDueMs()
    if (due === undefined || due > this.ports.nowMs()) return
    this.tickProposed = true
    void this.propose({ type: 'tick' }).then((reply) => {
      if (!reply.ok) this.tickProposed = false
      else if ((reply.value as { more: boolean }).more) this.tickProposed = false
    })
  }

  private wakeParked(queue: string): void {
    const list = this.parked.get(queue)
    if (!list || list.length === 0) return
    this.parked.delete(queue)
    this.parkedCount -= list.length
    for (const parked of list) {
      clearTimeout(parked.timer)
      if (parked.waitId !== undefined) this.parkedByWaitId.delete(parked.waitId)
      const remainingMs = parked.deadlineMs - Date.now()
      void this.receive(parked.command, Math.max(0, remainingMs), parked.waitId).then(parked.resolve)
    }
  }

  private releaseParked(queue: string, reply: ShardReply<unknown>): void {
    const list = this.parked.get(queue)
    if (!list) return
    this.parked.delete(queue)
    this.parkedCount -= list.length
    for (const parked of list) {
      clearTimeout(parked.timer)
      if (parked.waitId !== undefined) this.parkedByWaitId.delete(parked.waitId)
      parked.resolve(reply)
    }
  }

  private unpark(parked: ParkedReceive): void {
    const list = this.parked.get(parked.command.queue)
    const at = list?.indexOf(parked) ?? -1
    if (at < 0) return
    list!.splice(at, 1)
    if (list!.length === 0) this.parked.delete(parked.command.queue)
    this.parkedCount--
    if (parked.waitId !== undefined) this.parkedByWaitId.delete(parked.waitId)
  }

  private startReadBatch(): void {
    if (this.queuedReads.length === 0 || this.readBatches.some((b) => b.index === undefined)) return
    const batch: ReadBatch = { id: this.nextReadBatchId++, index: undefined, reads: this.queuedReads }
    this.queuedReads = []
    const result = this.raw.readIndex(readBatchContext(batch.id))
    if (!result.ok) {
      const error = result.code === 'NOT_LEADER' ? notLeader(this.shard, result.leaderId ?? 0) : { code: 'UNAVAILABLE' as const, message: result.message }
      for (const read of batch.reads) read.resolve({ ok: false, error })
      this.pendingReadCount -= batch.reads.length
      return
    }
    this.readBatches.push(batch)
    this.pump()
  }

  private serveReads(): void {
    if (this.readBatches.length === 0) return
    const applied = this.appliedIndex
    const now = Date.now()
    const waiting: ReadBatch[] = []
    for (const batch of this.readBatches) {
      if (batch.index === undefined || batch.index > applied) {
        waiting.push(batch)
        continue
      }
      for (const read of batch.reads) read.resolve({ ok: true, value: this.machine.kvGet(read.key, now) ?? null })
      this.pendingReadCount -= batch.reads.length
    }
    this.readBatches = waiting
    this.startReadBatch()
  }

  private failWaiters(error: ShardError): void {
    const waiters = [...this.waiters.values()]
    this.waiters.clear()
    for (const waiter of waiters) waiter.reject(error)
  }

  /** Removes every read not answered yet. */
  private takeReads(): ReadBatch['reads'] {
    const reads = this.readBatches.flatMap((batch) => batch.reads)
    reads.push(...this.queuedReads)
    this.readBatches = []
    this.queuedReads = []
    this.pendingReadCount = 0
    return reads
  }

  private failReads(error: ShardError): void {
    for (const read of this.takeReads()) read.resolve({ ok: false, error })
  }
}

/**
 * Entries decoded from a large frame share that frame's buffer (see the ring
 * codec), and the messages a queue keeps point into their entry's bytes: one
 * message kept long after the others would hold a whole 1 MiB append. An
 * entry in a buffer much larger than itself gets a copy of its own, so that
 * what a kept message holds stays within about twice its entry.
 */
export function ownEntryData(entries: Entry[]): void {
  for (const entry of entries) {
    const data = entry.data
    if (data.buffer.byteLength > 2 * data.byteLength + ENTRY_SHARED_SLACK_BYTES) entry.data = new Uint8Array(data)
  }
}
const ENTRY_SHARED_SLACK_BYTES = 4096

/**
 * A snapshot's data, msgpack {c: membership, a: joined nodes' addresses, r:
 * removed nodes, m: machine bytes}, read in one pass (the machine bytes are
 * a view, not a copy). A field is absent in the bootstrap snapshot of a new
 * group (empty data: an empty machine) and, for `a` and `r`, in snapshots
 * written before they existed.
 */
interface SnapshotPayload {
  c?: ConfState
  a?: [number, string][]
  r?: number[]
  m?: Uint8Array
}

/** A snapshot from the leader, decoded while its Ready is persisted. */
interface InstalledSnapshot {
  machine: ShardMachine
  payload: SnapshotPayload
}

function readSnapshotPayload(data: Uint8Array): SnapshotPayload {
  return data.byteLength === 0 ? {} : (entryUnpackr.unpack(data) as SnapshotPayload)
}

/**
 * The applied entries a shard's replica counts as already done toward its
 * first snapshot: shards are spread over the period in golden-ratio steps
 * (shard 0 at 0, shard 1 at 62%, shard 2 at 24%, ...).
 */
export function snapshotHeadStart(shard: number, every: number): number {
  return Math.floor(every * ((shard * 0.6180339887) % 1))
}

function toLogEntry(entry: Entry): LogEntry {
  return { index: entry.index, term: entry.term, kind: entry.type === 'conf' ? CONF_KIND : NORMAL_KIND, payload: entry.data }
}

function toRaftEntry(entry: LogEntry): Entry {
  return { index: entry.index, term: entry.term, type: entry.kind === CONF_KIND ? 'conf' : 'normal', data: entry.payload }
}

function readBatchContext(id: number): Uint8Array {
  const ctx = new Uint8Array(8)
  new DataView(ctx.buffer).setFloat64(0, id)
  return ctx
}

function readBatchId(ctx: Uint8Array): number {
  return ctx.byteLength === 8 ? new DataView(ctx.buffer, ctx.byteOffset, 8).getFloat64(0) : -1
}

/**
 * The parts of a snapshot's data, msgpack {c: membership, a: joined nodes'
 * peer addresses as [id, address] pairs, r: ids of removed nodes, m: machine
 * bytes} (the same bytes as packing that object), with the machine's parts
 * inside (resolved: their length goes in the header).
 */
function snapshotPayloadPrefix(confState: ConfState, addresses: [number, string][], removed: number[], machineBytes: number): SnapshotParts {
  const out = new SnapshotParts()
  out.push(Uint8Array.of(0xde, 0x00, 0x04)) // a map of four entries, in msgpackr's map16 form for objects
  out.value('c')
  out.value(confState)
  out.value('a')
  out.value(addresses)
  out.value('r')
  out.value(removed)
  out.value('m')
  out.binHeader(machineBytes)
  return out
}

function overwritten(shard: number): ShardError {
  return { code: 'UNAVAILABLE', message: `shard ${shard}: the proposal was overwritten by a new leader` }
}
