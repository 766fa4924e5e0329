// `troupe status`: the cluster map from the SDK, plus each node's own view
// of its replicas' commit indexes (GET /v1/cluster on its HTTP address) to
// show how far followers trail their leader.
import type { CliClusterMap, CliClusterShard } from './client-api.js'
import type { ClientCommand } from './client-command.js'
import { keyValues, table } from './client-format.js'

/** Asking every node is best effort: one that does not answer in this time only leaves its lag unknown. */
const NODE_VIEW_TIMEOUT_MS = 3_000

/** Shard id → the commit index of that node's replica. */
export type NodeView = Map<number, number>

export type FetchNodeView = (http: string, token: string | undefined, timeoutMs: number) => Promise<NodeView>

export async function httpNodeView(http: string, token: string | undefined, timeoutMs: number): Promise<NodeView> {
  const response = await fetch(`http://${http}/v1/cluster`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!response.ok) throw new Error(`GET http://${http}/v1/cluster answered ${response.status}`)
  const view = (await response.json()) as { shards?: { id: number; commitIndex: number }[] }
  return new Map((view.shards ?? []).map((shard) => [shard.id, shard.commitIndex]))
}

export interface ShardStatusRow extends CliClusterShard {
  /** Each member's commit index, as that member reported it (members that did not answer are absent). */
  commitIndexByNode: Record<string, number>
  /** Highest minus lowest commit index among the members that answered; null when fewer than two did (one, for a one-member shard). */
  lag: number | null
}

export function shardRows(map: CliClusterMap, views: Map<number, NodeView>): ShardStatusRow[] {
  return map.shards.map((shard) => {
    const commitIndexByNode: Record<string, number> = {}
    for (const member of shard.members) {
      const commitIndex = views.get(member)?.get(shard.id)
      if (commitIndex !== undefined) commitIndexByNode[String(member)] = commitIndex
    }
    const known = Object.values(commitIndexByNode)
    // A one-member shard has no follower to trail it: its own answer is enough.
    const answersNeeded = Math.max(1, Math.min(2, shard.members.length))
    const lag = known.length >= answersNeeded ? Math.max(...known) - Math.min(...known) : null
    // The leader's own commit index is the authoritative one when it answered.
    const commitIndex = commitIndexByNode[String(shard.leader)] ?? shard.commitIndex
    return { ...shard, commitIndex, commitIndexByNode, lag }
  })
}

export function statusText(map: CliClusterMap, shards: ShardStatusRow[]): string {
  const nodes = table(
    ['ID', 'TCP', 'HTTP', 'STATE'],
    map.nodes.map((node) => [String(node.id), node.tcp ?? '-', node.http ?? '-', node.state]),
  )
  const shardTable = table(
    ['SHARD', 'LEADER', 'TERM', 'COMMIT', 'LAG', 'MEMBERS'],
    shards.map((shard) => [
      String(shard.id),
      shard.leader === 0 ? 'none' : String(shard.leader),
      String(shard.term),
      String(shard.commitIndex),
      shard.lag === null ? '-' : String(shard.lag),
      shard.members.join(','),
    ]),
  )
  return `${keyValues([['answered by', `node ${map.node}`], ['shards', String(map.shardCount)]])}\n${nodes}\n${shardTable}`
}

export function statusCommand(fetchNodeView: FetchNodeView = httpNodeView): ClientCommand {
  return {
    path: ['status'],
    synopsis: '',
    summary: 'nodes, shards, leaders, terms, commit indexes and follower lag',
    details: [
      "LEADER is 'none' while a shard elects one. COMMIT is the leader's commit index; LAG is",
      "the highest minus the lowest commit index among the shard's members, each asked on its",
      "HTTP address (GET /v1/cluster); '-' when fewer than two members answered.",
    ].join('\n'),
    options: {},
    positionals: { min: 0, max: 0 },
    prepare() {
      return async ({ client, settings, print }) => {
        const map = await client.cluster()
        const timeoutMs = Math.min(settings.timeoutMs, NODE_VIEW_TIMEOUT_MS)
        const asked = map.nodes.filter((node) => node.http !== undefined)
        const answers = await Promise.allSettled(asked.map((node) => fetchNodeView(node.http!, settings.token, timeoutMs)))
        const views = new Map<number, NodeView>()
        answers.forEach((answer, i) => {
          if (answer.status === 'fulfilled') views.set(asked[i]!.id, answer.value)
        })
        // The map itself is the answering node's view of the shards it holds.
        if (!views.has(map.node)) {
          views.set(map.node, new Map(map.shards.filter((shard) => shard.members.includes(map.node)).map((shard) => [shard.id, shard.commitIndex])))
        }
        const shards = shardRows(map, views)
        print(statusText(map, shards), { node: map.node, shardCount: map.shardCount, nodes: map.nodes, shards })
      }
    },
  }
}
