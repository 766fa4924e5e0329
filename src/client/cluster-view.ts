// The client's picture of the cluster: which node leads each shard and where
// each node listens. It starts from a `cluster` answer and is corrected by
// the leader hints of NOT_LEADER/MOVED answers between two refreshes.
import { shardForKey, shardForQueue } from '../cluster/placement.js'
import type { LeaderHint } from './client-error.js'
import type { ClusterMap, ClusterNode, ClusterShard } from './client-types.js'

export class ClusterView {
  #map: ClusterMap
  readonly #tcpById = new Map<number, string>()
  readonly #leaderByShard = new Map<number, number>()
  readonly #membersByShard = new Map<number, number[]>()

  constructor(map: ClusterMap) {
    this.#map = map
    this.update(map)
  }

  get map(): ClusterMap {
    return this.#map
  }

  get shardCount(): number {
    return this.#map.shardCount
  }

  /** Takes a fresh `cluster` answer. Addresses learned before are kept for nodes the answer does not describe. */
  update(map: ClusterMap): void {
    this.#map = map
    for (const node of map.nodes) {
      if (node.tcp) this.#tcpById.set(node.id, node.tcp)
    }
    this.#leaderByShard.clear()
    this.#membersByShard.clear()
    for (const shard of map.shards) {
      if (shard.leader > 0) this.#leaderByShard.set(shard.id, shard.leader)
      this.#membersByShard.set(shard.id, shard.members)
    }
  }

  shardOfQueue(queue: string): number {
    return shardForQueue(queue, this.#map.shardCount)
  }

  shardOfKey(key: string): number {
    return shardForKey(key, this.#map.shardCount)
  }

  /** The TCP address of the shard's leader, when both are known. */
  leaderAddress(shard: number): string | undefined {
    const leader = this.#leaderByShard.get(shard)
    return leader === undefined ? undefined : this.#tcpById.get(leader)
  }

  /** Addresses of the shard's replicas (any of them answers with a leader hint when it knows one). */
  memberAddresses(shard: number): string[] {
    const members = this.#membersByShard.get(shard) ?? []
    return members.map((id) => this.#tcpById.get(id)).filter((tcp): tcp is string => tcp !== undefined)
  }

  /** Every known client address, the seeds' answers included. */
  addresses(): string[] {
    return [...new Set(this.#tcpById.values())]
  }

  /** Records what a NOT_LEADER/MOVED answer said; returns the address to ask, when it is known. */
  applyHint(shard: number, hint: LeaderHint): string | undefined {
    this.#leaderByShard.set(shard, hint.id)
    if (hint.tcp) this.#tcpById.set(hint.id, hint.tcp)
    return this.#tcpById.get(hint.id)
  }

  /** Forgets the shard's leader (its node was lost): the next call looks for it again. */
  forgetLeader(shard: number, address: string): void {
    if (this.leaderAddress(shard) === address) this.#leaderByShard.delete(shard)
  }
}

/** Checks and normalizes a `cluster` answer; throws a description of what is wrong. */
export function parseClusterMap(value: unknown): ClusterMap {
  if (typeof value !== 'object' || value === null) throw new Error('the cluster map is not an object')
  const fields = value as Record<string, unknown>
  const shardCount = fields['shardCount']
  if (typeof shardCount !== 'number' || !Number.isInteger(shardCount) || shardCount < 1) {
    throw new Error(`the cluster map has no valid shardCount (${JSON.stringify(shardCount)})`)
  }
  const nodes = Array.isArray(fields['nodes']) ? fields['nodes'].map(parseNode).filter((n): n is ClusterNode => n !== undefined) : []
  const shards = Array.isArray(fields['shards']) ? fields['shards'].map(parseShard).filter((s): s is ClusterShard => s !== undefined) : []
  return { node: typeof fields['node'] === 'number' ? fields['node'] : 0, shardCount, nodes, shards }
}

function parseNode(value: unknown): ClusterNode | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const f = value as Record<string, unknown>
  if (typeof f['id'] !== 'number') return undefined
  const state = f['state'] === 'self' || f['state'] === 'up' || f['state'] === 'down' ? f['state'] : 'down'
  const node: ClusterNode = { id: f['id'], peer: typeof f['peer'] === 'string' ? f['peer'] : '', state }
  if (typeof f['http'] === 'string') node.http = f['http']
  if (typeof f['tcp'] === 'string') node.tcp = f['tcp']
  return node
}

function parseShard(value: unknown): ClusterShard | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const f = value as Record<string, unknown>
  if (typeof f['id'] !== 'number') return undefined
  const number = (name: string): number => (typeof f[name] === 'number' ? (f[name] as number) : 0)
  const members = Array.isArray(f['members']) ? f['members'].filter((m): m is number => typeof m === 'number') : []
  return { id: f['id'], leader: number('leader'), term: number('term'), commitIndex: number('commitIndex'), members }
}
