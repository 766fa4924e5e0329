// The options of one Troupe node, with their defaults in one place
// (CONTRACT §1 names the CLI forms of the same options).
import { availableParallelism } from 'node:os'
import type { Logger } from 'pino'
import { parsePeerAddress } from '../net/peer-address.js'

export interface NodeOptions {
  /** Node id, a positive integer unique in the cluster. Default 1. */
  id?: number
  /** Data directory: WAL, snapshots, node identity. Default `./data`. */
  dataDir?: string
  /** Shards (Raft groups) when the cluster is first created. Default 8. */
  shards?: number
  /** `always`: acknowledge only after fdatasync; `none`: page cache only. Default `always`. */
  sync?: 'always' | 'none'
  /** Worker threads hosting shard actors. Default: cores − 1, at least 1. */
  threads?: number
  /**
   * Where the WAL writer runs: `own` (a worker thread of its own) or `shared`
   * (on the first shard thread, so those shards hand it their writes without
   * crossing threads). Default: `shared` when there is one shard thread,
   * `own` otherwise.
   */
  walThread?: 'own' | 'shared'
  /** Raft tick interval. Default 100 ms (elections after 1–2 s without a leader). */
  tickMs?: number
  electionTicks?: number
  /** Take a shard snapshot after this many applied entries. Default 20,000. */
  snapshotEveryEntries?: number
  /**
   * Also take one once the entries applied since the last hold this many
   * bytes, or as many as that snapshot, whichever is more (this bounds the
   * log in memory and on disk under large messages). Default 64 MiB.
   */
  snapshotEveryBytes?: number
  /** Log entries kept behind a snapshot for followers that lag a little; one further behind gets the snapshot. Default 1,000. */
  entriesKeptAfterSnapshot?: number
  /** ...holding at most this many bytes. Default 16 MiB. */
  bytesKeptAfterSnapshot?: number
  /** Move leadership back to each shard's preferred replica once it has caught up (keeps leaders spread). Default true. */
  balanceLeaders?: boolean
  /** A request that cannot finish in this time fails (TIMEOUT or UNAVAILABLE). Default 10 s. */
  requestTimeoutMs?: number
  /**
   * Bytes of writes (message bodies, KV values, request bodies being read)
   * this node takes in before it refuses more with UNAVAILABLE (HTTP 503,
   * Retry-After) until some are answered. Default 64 MiB. A write of 64 KiB
   * or more is also refused while the oldest such write in flight has waited more than
   * a quarter of requestTimeoutMs.
   */
  writeBytesInFlightMax?: number
  /** `lease-based` serves linearizable reads from the leader lease (bounded clock drift). Default `safe` (ReadIndex). */
  readOnly?: 'safe' | 'lease-based'
  /**
   * The initial members, `1=host:peerport,2=host:peerport,...` (or a map of
   * id → address); every member gets the same list. Absent: a single node.
   */
  cluster?: string | ReadonlyMap<number, string>
  /**
   * The peer address of any member of a running cluster: a node with no data
   * yet joins that cluster (see docs/ARCHITECTURE.md, "Joining"). A node
   * that has joined before restarts as a member and ignores it. Not with
   * `cluster`.
   */
  join?: string
  /** Peer (node-to-node) listen address. Default `127.0.0.1:7282`. */
  peer?: string
  /** Peers must prove knowledge of it before any Raft message is accepted (TROUPE_CLUSTER_SECRET). */
  clusterSecret?: string
  /** How long start-up may wait for every shard to elect a leader. Default 30 s. */
  readyTimeoutMs?: number
  /**
   * Cancels the start: `startNode` then stops what it had started and
   * rejects with the signal's reason. The CLI aborts it on SIGTERM or SIGINT,
   * so a node that cannot reach its peers still stops at once.
   */
  signal?: AbortSignal
  logger?: Logger
}

export interface ResolvedNodeOptions extends Required<Omit<NodeOptions, 'logger' | 'cluster' | 'clusterSecret' | 'join' | 'signal'>> {
  join: string | undefined
  signal: AbortSignal | undefined
  logger: Logger | undefined
  /** Every member, this node included: id → peer address. */
  members: ReadonlyMap<number, string>
  clusterSecret: string | undefined
}

export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  const resolved: ResolvedNodeOptions = {
    id: options.id ?? 1,
    dataDir: options.dataDir ?? './data',
    shards: options.shards ?? 8,
    sync: options.sync ?? 'always',
    threads: options.threads ?? Math.max(1, availableParallelism() - 1),
    walThread: 'own',
    tickMs: options.tickMs ?? 100,
    electionTicks: options.electionTicks ?? 10,
    snapshotEveryEntries: options.snapshotEveryEntries ?? 20_000,
    snapshotEveryBytes: options.snapshotEveryBytes ?? 64 * 1024 * 1024,
    entriesKeptAfterSnapshot: options.entriesKeptAfterSnapshot ?? 1_000,
    bytesKeptAfterSnapshot: options.bytesKeptAfterSnapshot ?? 16 * 1024 * 1024,
    balanceLeaders: options.balanceLeaders ?? true,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    writeBytesInFlightMax: options.writeBytesInFlightMax ?? 64 * 1024 * 1024,
    readOnly: options.readOnly ?? 'safe',
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    peer: options.peer ?? '127.0.0.1:7282',
    members: new Map(),
    join: options.join,
    clusterSecret: options.clusterSecret,
    signal: options.signal,
    logger: options.logger,
  }
  resolved.members = resolveMembers(options.cluster, resolved.id, resolved.peer)
  if (resolved.join !== undefined) {
    if (options.cluster !== undefined && options.cluster !== '') throw new RangeError('join: give either the initial members (cluster) or a member to join, not both')
    try {
      parsePeerAddress(resolved.join)
    } catch {
      throw new RangeError(`join: expected host:port of a member's peer address, got '${resolved.join}'`)
    }
  }
  positiveInteger('id', resolved.id)
  positiveInteger('shards', resolved.shards)
  positiveInteger('threads', resolved.threads)
  if (options.walThread !== undefined && options.walThread !== 'own' && options.walThread !== 'shared') {
    throw new RangeError(`walThread must be 'own' or 'shared', got ${String(options.walThread)}`)
  }
  resolved.walThread = options.walThread ?? (resolved.threads === 1 ? 'shared' : 'own')
  positiveInteger('tickMs', resolved.tickMs)
  positiveInteger('electionTicks', resolved.electionTicks)
  positiveInteger('snapshotEveryEntries', resolved.snapshotEveryEntries)
  positiveInteger('snapshotEveryBytes', resolved.snapshotEveryBytes)
  if (!Number.isSafeInteger(resolved.bytesKeptAfterSnapshot) || resolved.bytesKeptAfterSnapshot < 0) {
    throw new RangeError(`bytesKeptAfterSnapshot must be a non-negative integer, got ${resolved.bytesKeptAfterSnapshot}`)
  }
  if (!Number.isSafeInteger(resolved.entriesKeptAfterSnapshot) || resolved.entriesKeptAfterSnapshot < 0) {
    throw new RangeError(`entriesKeptAfterSnapshot must be a non-negative integer, got ${resolved.entriesKeptAfterSnapshot}`)
  }
  positiveInteger('requestTimeoutMs', resolved.requestTimeoutMs)
  positiveInteger('writeBytesInFlightMax', resolved.writeBytesInFlightMax)
  if (resolved.shards > 1024) throw new RangeError(`shards must be at most 1024, got ${resolved.shards}`)
  if (resolved.sync !== 'always' && resolved.sync !== 'none') throw new RangeError(`sync must be 'always' or 'none', got ${String(resolved.sync)}`)
  if (resolved.readOnly !== 'safe' && resolved.readOnly !== 'lease-based') {
    throw new RangeError(`readOnly must be 'safe' or 'lease-based', got ${String(resolved.readOnly)}`)
  }
  return resolved
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`)
}

/** Parses `1=host:port,2=host:port` and checks this node is in it. */
export function resolveMembers(cluster: NodeOptions['cluster'], id: number, peer: string): ReadonlyMap<number, string> {
  if (cluster === undefined || cluster === '') return new Map([[id, peer]])
  let members: Map<number, string>
  if (typeof cluster === 'string') {
    members = new Map()
    for (const part of cluster.split(',')) {
      const match = /^\s*(\d+)=([^\s,]+)\s*$/.exec(part)
      if (!match) throw new RangeError(`cluster: expected id=host:port, got '${part}'`)
      const memberId = Number(match[1])
      positiveInteger('cluster member id', memberId)
      if (members.has(memberId)) throw new RangeError(`cluster: node ${memberId} is listed twice`)
      members.set(memberId, match[2]!)
    }
  } else members = new Map(cluster)
  if (!members.has(id)) throw new RangeError(`cluster: this node (${id}) is not in the member list`)
  return members
}

/** The replicas of a shard: every member when there are at most 3, else 3 of them, rotating by shard. */
export function replicasOf(shard: number, members: ReadonlyMap<number, string>): number[] {
  const ids = [...members.keys()].sort((a, b) => a - b)
  if (ids.length <= 3) {
    // Rotated per shard: the first replica campaigns first, so leaders start out spread.
    return ids.map((_, i) => ids[(i + shard) % ids.length]!)
  }
  return [0, 1, 2].map((i) => ids[(shard + i) % ids.length]!)
}
