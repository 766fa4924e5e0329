// The options of one Troupe node, with their defaults in one place
// (CONTRACT §1 names the CLI forms of the same options).
import { availableParallelism } from 'node:os'
import type { Logger } from 'pino'

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
  /** Raft tick interval. Default 100 ms (elections after 1–2 s without a leader). */
  tickMs?: number
  electionTicks?: number
  /** Take a shard snapshot after this many applied entries. Default 20,000. */
  snapshotEveryEntries?: number
  /** A request that cannot finish in this time fails (TIMEOUT or UNAVAILABLE). Default 10 s. */
  requestTimeoutMs?: number
  /** `lease-based` serves linearizable reads from the leader lease (bounded clock drift). Default `safe` (ReadIndex). */
  readOnly?: 'safe' | 'lease-based'
  /** How long start-up may wait for every shard to elect a leader. Default 30 s. */
  readyTimeoutMs?: number
  logger?: Logger
}

export interface ResolvedNodeOptions extends Required<Omit<NodeOptions, 'logger'>> {
  logger: Logger | undefined
}

export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  const resolved: ResolvedNodeOptions = {
    id: options.id ?? 1,
    dataDir: options.dataDir ?? './data',
    shards: options.shards ?? 8,
    sync: options.sync ?? 'always',
    threads: options.threads ?? Math.max(1, availableParallelism() - 1),
    tickMs: options.tickMs ?? 100,
    electionTicks: options.electionTicks ?? 10,
    snapshotEveryEntries: options.snapshotEveryEntries ?? 20_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    readOnly: options.readOnly ?? 'safe',
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    logger: options.logger,
  }
  positiveInteger('id', resolved.id)
  positiveInteger('shards', resolved.shards)
  positiveInteger('threads', resolved.threads)
  positiveInteger('tickMs', resolved.tickMs)
  positiveInteger('electionTicks', resolved.electionTicks)
  positiveInteger('snapshotEveryEntries', resolved.snapshotEveryEntries)
  positiveInteger('requestTimeoutMs', resolved.requestTimeoutMs)
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
