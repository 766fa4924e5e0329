// Options of one Raft node, with their defaults in one place.
import { RaftError } from './errors.js'
import type { Rng } from './rng.js'
import type { RaftStorage } from './storage.js'
import type { NodeId } from './types.js'
import { isValidNodeId } from './conf-change.js'

export type ReadOnlyOption = 'safe' | 'lease-based'

/** Optional sink for the core's rare diagnostics (never on the hot path). */
export interface RaftLogger {
  debug(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
}

export interface RaftConfig {
  id: NodeId
  storage: RaftStorage
  /** The only randomness (election timeouts). */
  rng: Rng
  /** A follower campaigns after a random number of ticks in [electionTicks, 2*electionTicks) without a leader. Default 10. */
  electionTicks?: number
  /** The leader sends heartbeats every heartbeatTicks. Default 1; must be < electionTicks. */
  heartbeatTicks?: number
  /** The last index the application has applied (on restart); committed entries start after it. Default 0. */
  applied?: number
  /** Upper bound on the entries in one append message. Default 1 MiB. */
  maxSizePerMsgBytes?: number
  /** Upper bound on Ready.committedEntries. Default 16 MiB. */
  maxCommittedSizePerReadyBytes?: number
  /** Append messages in flight to one follower in replicate state. Default 256. */
  maxInflightMsgs?: number
  /**
   * When the commit index moves, the leader sends each follower an append at
   * once, without entries if it has none (etcd's behaviour). false: the commit
   * index travels only with the next append and with every heartbeat, which
   * saves a message and its answer per follower per commit under load, and
   * delays followers' applying (never the leader's) by up to a heartbeat
   * interval when no proposal follows. Default true.
   */
  broadcastCommit?: boolean
  /** Payload bytes the leader accepts beyond the commit index before answering OVERLOADED. Default 64 MiB. */
  maxUncommittedEntriesBytes?: number
  /** Pre-vote (Raft thesis §9.6): a partitioned node does not inflate its term. Default true. */
  preVote?: boolean
  /** The leader steps down when it has not heard from a quorum for electionTicks; followers ignore votes while they hear from a leader. Default true. */
  checkQuorum?: boolean
  /** 'lease-based' answers reads from the leader lease without a heartbeat round; requires checkQuorum. Default 'safe'. */
  readOnly?: ReadOnlyOption
  /** Lease reads assume every node's tick interval is at least (1 - maxClockDriftRatio) times the leader's. Default 0.1. */
  maxClockDriftRatio?: number
  /** InstallSnapshot chunk size. Default 1 MiB. */
  snapshotChunkBytes?: number
  /** A follower refuses snapshots larger than this. Default 1 GiB. */
  maxSnapshotBytes?: number
  /** ReadIndex requests waiting on the leader. Default 4096. */
  maxPendingReads?: number
  logger?: RaftLogger
}

export interface ResolvedRaftConfig {
  id: NodeId
  storage: RaftStorage
  rng: Rng
  electionTicks: number
  heartbeatTicks: number
  applied: number
  maxSizePerMsgBytes: number
  maxCommittedSizePerReadyBytes: number
  maxInflightMsgs: number
  broadcastCommit: boolean
  maxUncommittedEntriesBytes: number
  preVote: boolean
  checkQuorum: boolean
  readOnly: ReadOnlyOption
  maxClockDriftRatio: number
  snapshotChunkBytes: number
  maxSnapshotBytes: number
  maxPendingReads: number
  /** Derived: leader ticks a quorum-confirmed heartbeat round keeps a lease read valid (see README). */
  leaseTicks: number
  logger: RaftLogger | undefined
}

const MiB = 1024 * 1024

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RaftError('INVALID_CONFIG', `${name} must be a positive integer, got ${value}`)
  return value
}

/**
 * Lease length in leader ticks. A follower that heard the leader refuses votes
 * for electionTicks of its own ticks, the first of which may come at once:
 * at least (electionTicks - 1) of its tick intervals, i.e. at least
 * (electionTicks - 1) * (1 - drift) leader tick intervals. One more tick is
 * kept as margin for a late tick delivery.
 */
export function leaseTicksFor(electionTicks: number, maxClockDriftRatio: number): number {
  return Math.floor((electionTicks - 1) * (1 - maxClockDriftRatio)) - 1
}

export function resolveConfig(config: RaftConfig): ResolvedRaftConfig {
  if (!isValidNodeId(config.id)) throw new RaftError('INVALID_CONFIG', `id must be a positive 32-bit integer, got ${config.id}`)
  const electionTicks = positiveInt('electionTicks', config.electionTicks ?? 10)
  const heartbeatTicks = positiveInt('heartbeatTicks', config.heartbeatTicks ?? 1)
  if (heartbeatTicks >= electionTicks) throw new RaftError('INVALID_CONFIG', 'heartbeatTicks must be less than electionTicks')
  const checkQuorum = config.checkQuorum ?? true
  const readOnly = config.readOnly ?? 'safe'
  const maxClockDriftRatio = config.maxClockDriftRatio ?? 0.1
  if (!(maxClockDriftRatio >= 0 && maxClockDriftRatio < 1)) throw new RaftError('INVALID_CONFIG', 'maxClockDriftRatio must be in [0, 1)')
  const leaseTicks = leaseTicksFor(electionTicks, maxClockDriftRatio)
  if (readOnly === 'lease-based') {
    if (!checkQuorum) throw new RaftError('INVALID_CONFIG', "readOnly 'lease-based' requires checkQuorum")
    if (leaseTicks < 1) throw new RaftError('INVALID_CONFIG', `electionTicks ${electionTicks} is too small for a lease with drift ${maxClockDriftRatio}`)
  }
  const applied = config.applied ?? 0
  if (!Number.isSafeInteger(applied) || applied < 0) throw new RaftError('INVALID_CONFIG', 'applied must be a non-negative integer')
  return {
    id: config.id,
    storage: config.storage,
    rng: config.rng,
    electionTicks,
    heartbeatTicks,
    applied,
    maxSizePerMsgBytes: positiveInt('maxSizePerMsgBytes', config.maxSizePerMsgBytes ?? MiB),
    maxCommittedSizePerReadyBytes: positiveInt('maxCommittedSizePerReadyBytes', config.maxCommittedSizePerReadyBytes ?? 16 * MiB),
    maxInflightMsgs: positiveInt('maxInflightMsgs', config.maxInflightMsgs ?? 256),
    broadcastCommit: config.broadcastCommit ?? true,
    maxUncommittedEntriesBytes: positiveInt('maxUncommittedEntriesBytes', config.maxUncommittedEntriesBytes ?? 64 * MiB),
    preVote: config.preVote ?? true,
    checkQuorum,
    readOnly,
    maxClockDriftRatio,
    snapshotChunkBytes: positiveInt('snapshotChunkBytes', config.snapshotChunkBytes ?? MiB),
    maxSnapshotBytes: positiveInt('maxSnapshotBytes', config.maxSnapshotBytes ?? 1024 * MiB),
    maxPendingReads: positiveInt('maxPendingReads', config.maxPendingReads ?? 4096),
    leaseTicks,
    logger: config.logger,
  }
}
