// Which node leads which shard, from GET /v1/cluster on every node that
// answers: for each shard, the leader named in the view with the highest
// term (a node cut off from the others may still name an old leader).

export interface ShardView {
  id: number
  leader: number
  term: number
}

interface ClusterView {
  node: number
  shards: ShardView[]
}

/** Leader of each shard id; 0 when no view names one. */
export function leadersFromViews(views: ReadonlyArray<{ shards: ReadonlyArray<ShardView> }>): Map<number, number> {
  const best = new Map<number, ShardView>()
  for (const view of views) {
    for (const shard of view.shards) {
      const known = best.get(shard.id)
      if (shard.leader !== 0 && (known === undefined || known.leader === 0 || shard.term > known.term)) best.set(shard.id, shard)
      else if (known === undefined) best.set(shard.id, shard)
    }
  }
  return new Map([...best.entries()].map(([id, shard]) => [id, shard.leader]))
}

/** The node leading the most shards (the lowest id on a tie), and how many it leads. */
export function busiestLeader(leaders: Map<number, number>): { id: number; shardsLed: number } | undefined {
  const counts = new Map<number, number>()
  for (const leader of leaders.values()) if (leader !== 0) counts.set(leader, (counts.get(leader) ?? 0) + 1)
  let busiest: { id: number; shardsLed: number } | undefined
  for (const [id, shardsLed] of [...counts.entries()].sort((a, b) => a[0] - b[0])) {
    if (busiest === undefined || shardsLed > busiest.shardsLed) busiest = { id, shardsLed }
  }
  return busiest
}

/** GET /v1/cluster on each address; nodes that do not answer within `timeoutMs` are left out. */
export async function fetchClusterViews(httpAddresses: string[], token: string | undefined, timeoutMs = 3_000): Promise<ClusterView[]> {
  const views = await Promise.all(
    httpAddresses.map(async (address) => {
      try {
        const response = await fetch(`http://${address}/v1/cluster`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          signal: AbortSignal.timeout(timeoutMs),
        })
        if (response.status !== 200) {
          await response.arrayBuffer()
          return undefined
        }
        return (await response.json()) as ClusterView
      } catch {
        return undefined
      }
    }),
  )
  return views.filter((view): view is ClusterView => view !== undefined)
}
