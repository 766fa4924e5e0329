// The handle an application gets from startNode(): queues, KV and the
// cluster's status, through the same gateway the HTTP and TCP servers use.
import { Packr, Unpackr } from 'msgpackr'
import type { Gateway } from '../../actors/gateway.js'
import type { ClientAddresses, PeerInfo } from '../../actors/peer-router.js'
import type { ShardMsg } from '../../actors/shard-actor.js'
import type { ShardStatus } from '../../actors/shard-replica.js'
import { shardForKey, shardForQueue } from '../cluster/placement.js'
import {
  checkBatchSize,
  checkDedupId,
  checkKey,
  checkPriority,
  checkQueueConfigPatch,
  checkQueueName,
  checkReceipt,
  checkReceiptCount,
  checkReceiveMax,
  checkValue,
  checkWaitMs,
  MESSAGE_BODY_BYTES_MAX,
  type CommandResults,
  type MachineError,
  type QueueConfig,
  type QueueConfigPatch,
  type QueueStats,
  type ReceivedMessage,
  type SendMessage,
  type KvEntryView,
  type ShardCommand,
} from '../machines/index.js'
import { TroupeError } from './node-errors.js'
import type { WriteBudget } from './write-budget.js'
import { AckCoalescer } from './ack-coalescer.js'
import { ReceiveCoalescer } from './receive-coalescer.js'
import { SendCoalescer } from './send-coalescer.js'
import type { ActorMetrics, ActorRef, ActorSystem, ThreadHost } from '../runtime/index.js'
import type { WalWriterMsg, WalWriterReply } from '../../actors/wal-writer.js'
import type { WalStats } from '../wal/index.js'

export interface SendOptions {
  /** Visible only after this delay (overrides the queue's delayMs). */
  delayMs?: number
  /** 0..9, higher first. */
  priority?: number
  /** A repeat within 5 minutes returns the first id and adds nothing. */
  dedupId?: string
}

export interface BatchMessage extends SendOptions {
  body: unknown
}

export interface ReceiveOptions {
  /** 1..100, default 1. An answer holds at most 10 MiB of bodies (always one message): the rest stay for the next receive. */
  max?: number
  /** Wait up to this long for a message when the queue is empty (0..20000). Default 0. */
  waitMs?: number
  /** Overrides the queue's visibility timeout for these deliveries. */
  visibilityTimeoutMs?: number
  /**
   * Ends a waiting receive early: it then resolves with no message, unless
   * messages were already being delivered when the signal fired; those are
   * returned, received, and are the caller's to ack or nack.
   */
  signal?: AbortSignal
}

export interface Message {
  id: string
  /** Names this delivery; pass it to ack, nack or extendVisibility. */
  receipt: string
  body: unknown
  receiveCount: number
  sentAt: number
  priority: number
}

export interface QueueInfo {
  name: string
  config: QueueConfig
  stats: QueueStats
}

export interface KvValue {
  value: Uint8Array
  version: number
  expiresAt?: number
}

/** A member of the cluster as this node sees it. */
export interface NodeInfo extends ClientAddresses {
  id: number
  peer: string
  /** `self` for this node; `up`/`down`: whether its peer link is connected. */
  state: 'self' | 'up' | 'down'
  /** Another member that said it is stopping (it takes no leadership any more). */
  leaving?: boolean
}

/** Where the node's members are and how their peer links stand (absent for a single node). */
export interface NodeDirectory {
  announce(addresses: ClientAddresses): void
  peers(): PeerInfo[]
}

/** The node's own actors that metrics() reads (absent: metrics() reports the main thread only). */
export interface NodeInternals {
  wal: ActorRef<WalWriterMsg, WalWriterReply>
  /** The worker threads running now (the WAL writer's and the shard hosts). */
  threads: () => ThreadHost[]
}

/** Counters of the machinery under the API, read by metrics(). */
export interface NodeMetrics {
  /** The WAL writer's counters; undefined when it did not answer (it may be restarting). */
  wal: WalStats | undefined
  /**
   * Every actor by thread (`main` for the main thread). Counters start at
   * zero again when a worker thread is restarted.
   */
  actors: (ActorMetrics & { thread: string })[]
  /** This node's shard replicas that answered: long-poll receives parked, proposals not answered yet (waiting for commit), and requests held while leadership is handed over. */
  shards: {
    id: number
    parkedReceives: number
    pendingProposals: number
    /** Snapshots this replica received from a leader since it started. */
    snapshotsInstalled: number
    /** Leaderships this replica handed to the shard's preferred replica since it started. */
    balanceTransfers: number
  }[]
}

/** How long metrics() waits for each thread or actor before leaving it out. */
const metricsTimeoutMs = 2_000

export interface ClusterStatus {
  node: number
  shards: {
    id: number
    leader: number
    term: number
    commitIndex: number
    appliedIndex: number
    /** The voters. */
    members: number[]
    /** Replicas that receive the log but do not vote yet: a node that joined, catching up. */
    learners: number[]
    /** Snapshots this node's replica received from a leader since it started. */
    snapshotsInstalled: number
  }[]
}

// Message bodies are any msgpack-able value; plain msgpack, no shared structures.
const bodyPackr = new Packr({ useRecords: false })
const bodyUnpackr = new Unpackr({ useRecords: false })

function check(error: MachineError | undefined): void {
  if (error) throw new TroupeError(error.code, error.message)
}

/**
 * `routed`: a request runs on the shard's leader wherever it is (the gateway
 * forwards it). `direct`: it runs only on this node's replica, which fails it
 * with NOT_LEADER or MOVED when it does not lead; the TCP protocol uses this
 * so its clients go to the leader themselves.
 */
export type Routing = 'routed' | 'direct'

abstract class ShardClient {
  constructor(
    protected readonly gateway: Gateway,
    private readonly routing: Routing,
  ) {}

  protected call<T>(shard: number, msg: ShardMsg, timeoutMs = this.gateway.requestTimeoutMs): Promise<T> {
    return this.routing === 'direct' ? this.gateway.callDirect<T>(shard, msg, timeoutMs) : this.gateway.call<T>(shard, msg, timeoutMs)
  }

  protected propose<T>(shard: number, command: ShardCommand): Promise<T> {
    return this.call<T>(shard, { type: 'propose', command })
  }

  protected cancelReceive(shard: number, waitId: string): void {
    this.gateway.cancelReceive(shard, waitId, this.routing === 'routed')
  }
}

export class Queues extends ShardClient {
  /** Single sends of one turn to one queue go out as one command (see send-coalescer.ts). */
  private readonly sends: SendCoalescer
  /** So do the acks of one turn to one queue (see ack-coalescer.ts)... */
  private readonly acks: AckCoalescer
  /** ...and the receives that do not wait (see receive-coalescer.ts). */
  private readonly receives: ReceiveCoalescer

  constructor(gateway: Gateway, routing: Routing = 'routed') {
    super(gateway, routing)
    this.sends = new SendCoalescer((queue, messages) =>
      this.propose<CommandResults['queue.send']>(shardForQueue(queue, this.gateway.shardCount), { type: 'queue.send', queue, messages }),
    )
    this.receives = new ReceiveCoalescer((queue, max, visibilityTimeoutMs) => {
      const command = { type: 'queue.receive' as const, queue, max, ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}) }
      return this.call<CommandResults['queue.receive']>(shardForQueue(queue, this.gateway.shardCount), { type: 'receive', command, waitMs: 0 })
    })
    this.acks = new AckCoalescer((queue, receipts) =>
      this.propose<CommandResults['queue.ack']>(shardForQueue(queue, this.gateway.shardCount), { type: 'queue.ack', queue, receipts }),
    )
  }

  private shardOf(name: string): number {
    check(checkQueueName(name))
    return shardForQueue(name, this.gateway.shardCount)
  }

  /** Creates the queue, or updates its config when it exists. Resolves whether it was created. */
  async put(name: string, config: QueueConfigPatch = {}): Promise<{ created: boolean; config: QueueConfig }> {
    const shard = this.shardOf(name)
    check(checkQueueConfigPatch(config, name))
    return this.propose(shard, { type: 'queue.create', queue: name, config, update: true })
  }

  /** Creates the queue; CONFLICT when it exists with a different config. */
  async create(name: string, config: QueueConfigPatch = {}): Promise<{ created: boolean; config: QueueConfig }> {
    const shard = this.shardOf(name)
    check(checkQueueConfigPatch(config, name))
    return this.propose(shard, { type: 'queue.create', queue: name, config })
  }

  async delete(name: string): Promise<void> {
    await this.propose(this.shardOf(name), { type: 'queue.delete', queue: name })
  }

  async purge(name: string): Promise<void> {
    await this.propose(this.shardOf(name), { type: 'queue.purge', queue: name })
  }

  async get(name: string): Promise<QueueInfo> {
    const shard = this.shardOf(name)
    const timeoutMs = 5_000
    const config = await this.call<QueueConfig | null>(shard, { type: 'queue-config', queue: name }, timeoutMs)
    const stats = await this.call<QueueStats | null>(shard, { type: 'queue-stats', queue: name }, timeoutMs)
    if (!config || !stats) throw new TroupeError('QUEUE_NOT_FOUND', `queue '${name}' does not exist`)
    return { name, config, stats }
  }

  /** Every queue of every shard, by name (always routed: it asks every shard's leader). */
  async list(): Promise<{ name: string; stats: QueueStats }[]> {
    const all: { name: string; stats: QueueStats }[] = []
    for (let shard = 0; shard < this.gateway.shardCount; shard++) {
      const names = await this.gateway.call<string[]>(shard, { type: 'queue-names' }, 5_000)
      for (const name of names) {
        const stats = await this.gateway.call<QueueStats | null>(shard, { type: 'queue-stats', queue: name }, 5_000)
        if (stats) all.push({ name, stats })
      }
    }
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Sends one message; resolves with its id once it is committed and applied. */
  async send(name: string, body: unknown, options: SendOptions = {}): Promise<string> {
    check(checkQueueName(name))
    const message = toSendMessage({ ...options, body }, 0)
    return this.gateway.writes.run(message.body.byteLength, () => this.sends.send(name, message))
  }

  /** Sends 1..1000 messages, all or nothing. */
  async sendBatch(name: string, messages: BatchMessage[]): Promise<string[]> {
    const shard = this.shardOf(name)
    check(checkBatchSize(messages.length))
    const encoded = messages.map((message, i) => toSendMessage(message, i))
    let bytes = 0
    for (const message of encoded) bytes += message.body.byteLength
    const command = { type: 'queue.send' as const, queue: name, messages: encoded }
    const result = await this.gateway.writes.run(bytes, () => this.propose<CommandResults['queue.send']>(shard, command))
    return result.ids
  }

  async receive(name: string, options: ReceiveOptions = {}): Promise<Message[]> {
    check(checkQueueName(name))
    const max = options.max ?? 1
    const waitMs = options.waitMs ?? 0
    check(checkReceiveMax(max))
    check(checkWaitMs(waitMs))
    if (waitMs === 0) return (await this.receives.receive(name, max, options.visibilityTimeoutMs)).map(fromReceived)
    const shard = shardForQueue(name, this.gateway.shardCount)
    const command = {
      type: 'queue.receive' as const,
      queue: name,
      max,
      ...(options.visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs: options.visibilityTimeoutMs } : {}),
    }
    const signal = options.signal
    if (signal === undefined) {
      const result = await this.call<CommandResults['queue.receive']>(shard, { type: 'receive', command, waitMs }, this.gateway.requestTimeoutMs + waitMs)
      return result.messages.map(fromReceived)
    }
    if (signal.aborted) return []
    const waitId = this.gateway.newWaitId()
    const cancel = () => this.cancelReceive(shard, waitId)
    signal.addEventListener('abort', cancel, { once: true })
    try {
      const result = await this.call<CommandResults['queue.receive']>(shard, { type: 'receive', command, waitMs, waitId }, this.gateway.requestTimeoutMs + waitMs)
      return result.messages.map(fromReceived)
    } finally {
      signal.removeEventListener('abort', cancel)
    }
  }

  /** Acks one receipt (RECEIPT_NOT_FOUND when it names no current delivery) or many (the error lists exactly the missing). */
  async ack(name: string, receipts: string | string[]): Promise<void> {
    const list = typeof receipts === 'string' ? [receipts] : receipts
    check(checkQueueName(name))
    check(checkReceiptCount(list.length))
    for (const receipt of list) check(checkReceipt(receipt))
    const missing = await this.acks.ack(name, list)
    if (missing.length > 0) {
      throw new TroupeError('RECEIPT_NOT_FOUND', `${missing.length} receipt(s) name no current delivery`, { missing })
    }
  }

  async nack(name: string, receipt: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.propose(this.shardOf(name), {
      type: 'queue.nack',
      queue: name,
      receipt,
      ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
    })
  }

  async extendVisibility(name: string, receipt: string, timeoutMs: number): Promise<void> {
    await this.propose(this.shardOf(name), { type: 'queue.visibility', queue: name, receipt, timeoutMs })
  }
}

export class Kv extends ShardClient {
  constructor(gateway: Gateway, routing: Routing = 'routed') {
    super(gateway, routing)
  }

  private shardOf(key: string): number {
    check(checkKey(key))
    return shardForKey(key, this.gateway.shardCount)
  }

  async put(key: string, value: Uint8Array | string, options: { ttlMs?: number; ifVersion?: number } = {}): Promise<number> {
    const shard = this.shardOf(key)
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    check(checkValue(bytes))
    const command = {
      type: 'kv.put' as const,
      key,
      value: bytes,
      ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
      ...(options.ifVersion !== undefined ? { ifVersion: options.ifVersion } : {}),
    }
    const result = await this.gateway.writes.run(bytes.byteLength, () => this.propose<CommandResults['kv.put']>(shard, command))
    return result.version
  }

  /** The value and its version, or undefined when the key does not exist. Linearizable unless `stale`. */
  async get(key: string, options: { consistency?: 'linearizable' | 'stale' } = {}): Promise<KvValue | undefined> {
    const shard = this.shardOf(key)
    const stale = options.consistency === 'stale'
    const entry = await this.call<KvEntryView | null>(shard, { type: 'get', key, stale })
    if (!entry) return undefined
    return { value: entry.value, version: entry.version, ...(entry.expiresAtMs > 0 ? { expiresAt: entry.expiresAtMs } : {}) }
  }

  async delete(key: string, options: { ifVersion?: number } = {}): Promise<void> {
    await this.propose(this.shardOf(key), {
      type: 'kv.delete',
      key,
      ...(options.ifVersion !== undefined ? { ifVersion: options.ifVersion } : {}),
    })
  }
}

export class TroupeNode {
  readonly queues: Queues
  readonly kv: Kv
  /** The same operations, run only on this node's replicas: NOT_LEADER/MOVED instead of forwarding (what the TCP protocol serves). */
  readonly direct: { readonly queues: Queues; readonly kv: Kv }
  private addresses: ClientAddresses = {}

  constructor(
    readonly id: number,
    /**
     * The node's actor system: applications can spawn their own supervised
     * actors and threads in it (`system.spawn`, `system.supervise`,
     * `system.spawnThread`). The node's own actors live under `storage`,
     * `gateway` and `peer-router`; leave those alone.
     */
    readonly system: ActorSystem,
    private readonly gateway: Gateway,
    private readonly lifecycle: { handOver(): Promise<void>; close(): Promise<void>; removeMember(id: number): Promise<void> },
    private readonly peerAddress: string,
    private readonly directory: NodeDirectory | undefined,
    private readonly internals?: NodeInternals,
  ) {
    this.queues = new Queues(gateway)
    this.kv = new Kv(gateway)
    this.direct = { queues: new Queues(gateway, 'direct'), kv: new Kv(gateway, 'direct') }
  }

  /**
   * The bytes of writes this node has taken in and not answered, and its
   * limit (NodeOptions.writeBytesInFlightMax). A server in front of the
   * node takes from it while it reads a request body (`take`, then `give`
   * just before it calls the node), so that bodies being read count too.
   */
  get writes(): WriteBudget {
    return this.gateway.writes
  }

  /** The number of shards (fixed when the cluster was created). */
  get shardCount(): number {
    return this.gateway.shardCount
  }

  /**
   * Records where this node serves clients (HTTP, TCP) and tells the other
   * members, so that `nodes()` on any of them names these addresses.
   */
  announce(addresses: ClientAddresses): void {
    this.addresses = { ...this.addresses, ...addresses }
    this.directory?.announce(this.addresses)
  }

  /** Every member, this node first: peer address, link state and the client addresses it announced. */
  nodes(): NodeInfo[] {
    const self: NodeInfo = { id: this.id, peer: this.peerAddress, state: 'self', ...this.addresses }
    return [self, ...(this.directory?.peers() ?? [])]
  }

  async status(): Promise<ClusterStatus> {
    const shards: ShardStatus[] = []
    for (let shard = 0; shard < this.gateway.shardCount; shard++) {
      if (this.gateway.shards[shard]) shards.push(await this.gateway.status(shard))
    }
    return {
      node: this.id,
      shards: shards.map((s) => ({
        id: s.shard,
        leader: s.leader,
        term: s.term,
        commitIndex: s.commitIndex,
        appliedIndex: s.appliedIndex,
        members: s.members,
        learners: s.learners,
        snapshotsInstalled: s.snapshotsInstalled,
      })),
    }
  }

  /** WAL, actor and shard counters (for /metrics). Parts that do not answer in time are left out. */
  async metrics(): Promise<NodeMetrics> {
    const internals = this.internals
    const wal = internals?.wal.ask({ type: 'stats' }, { timeoutMs: metricsTimeoutMs }).then(
      (stats) => stats as WalStats,
      () => undefined,
    )
    const threads = (internals?.threads() ?? []).map((host) =>
      host.metrics().then(
        (actors) => actors.map((actor) => ({ ...actor, thread: host.name })),
        () => [],
      ),
    )
    const hosted = [...Array(this.gateway.shardCount).keys()].filter((shard) => this.gateway.shards[shard] !== undefined)
    const statuses = hosted.map((shard) => this.gateway.status(shard).catch(() => undefined))
    const shards: NodeMetrics['shards'] = []
    for (const status of await Promise.all(statuses)) {
      if (status) {
        shards.push({
          id: status.shard,
          parkedReceives: status.parkedReceives,
          pendingProposals: status.pendingProposals,
          snapshotsInstalled: status.snapshotsInstalled,
          balanceTransfers: status.balanceTransfers,
        })
      }
    }
    const main = this.system.metrics().map((actor) => ({ ...actor, thread: 'main' }))
    return { wal: await wal, actors: [...main, ...(await Promise.all(threads)).flat()], shards }
  }

  /**
   * The first step of a graceful stop, for a node that serves clients: the
   * shards this node leads move to other replicas (at most 3 s), and this
   * node's replicas take no leadership from then on. Requests keep being
   * served meanwhile; a proposal that comes during a shard's move waits for
   * it and is answered NOT_LEADER naming the new leader, so clients move
   * with the shard instead of waiting out a refusal. Call it after the
   * client servers stop accepting connections and before they close;
   * `close()` does it anyway when it was not done. A single node has nothing
   * to hand over. It tells the other members that this node is stopping, so
   * a member that stops at the same time hands nothing to it. It never
   * rejects: a failure is logged and the shards left are left to an
   * election.
   */
  handOverLeadership(): Promise<void> {
    return this.lifecycle.handOver()
  }

  /**
   * Removes node `id` from the cluster, for good: to replace a member whose
   * machine is gone, remove it here (through any other member), then start
   * the new machine with `join` and a new id. Shard 0's leader removes it
   * from its members; then every node drops it from its member list, and
   * each shard's leader removes the node's replica there (a shard it led
   * moves first). Resolves once shard 0 has removed it; the other shards
   * follow within a few seconds (`status()` shows their members). The
   * removed node is told it was removed if it is still running: it hands
   * its leaderships over and should be stopped; its id cannot join again.
   * A node may remove itself (to retire it): it then hands its leaderships
   * over. Errors: INVALID_ARGUMENT (not a member, or the only voting
   * member).
   */
  removeMember(id: number): Promise<void> {
    return this.lifecycle.removeMember(id)
  }

  /** Stops the node: leadership is handed over, in-flight requests finish or fail, the WAL is flushed and closed. */
  close(): Promise<void> {
    return this.lifecycle.close()
  }
}

function toSendMessage(message: BatchMessage, position: number): SendMessage {
  const body = bodyPackr.pack(message.body)
  if (body.byteLength > MESSAGE_BODY_BYTES_MAX) {
    throw new TroupeError('PAYLOAD_TOO_LARGE', `messages[${position}].body is ${body.byteLength} bytes encoded; the limit is ${MESSAGE_BODY_BYTES_MAX}`)
  }
  if (message.priority !== undefined) check(checkPriority(message.priority))
  if (message.dedupId !== undefined) check(checkDedupId(message.dedupId))
  return {
    body,
    ...(message.delayMs !== undefined ? { delayMs: message.delayMs } : {}),
    ...(message.priority !== undefined ? { priority: message.priority } : {}),
    ...(message.dedupId !== undefined ? { dedupId: message.dedupId } : {}),
  }
}

function fromReceived(message: ReceivedMessage): Message {
  return {
    id: message.id,
    receipt: message.receipt,
    body: bodyUnpackr.unpack(message.body),
    receiveCount: message.receiveCount,
    sentAt: message.sentAtMs,
    priority: message.priority,
  }
}
