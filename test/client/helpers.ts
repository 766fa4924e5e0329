// Shared helpers of the SDK tests.
import { shardForQueue } from '../../src/cluster/placement.js'
import { connect, type ConnectOptions, type TroupeClient } from '../../src/client/index.js'
import { FakeCluster, type FakeClusterOptions } from './fake-cluster.js'

export interface TestScope {
  teardown(fn: () => unknown): void
}

/** A fake cluster and a client connected to it, both closed when the test ends. */
export async function fakeClusterWithClient(
  t: TestScope,
  clusterOptions: FakeClusterOptions = {},
  clientOptions: Partial<ConnectOptions> = {},
): Promise<{ cluster: FakeCluster; client: TroupeClient }> {
  const cluster = await FakeCluster.start(clusterOptions)
  const client = await connect({ nodes: cluster.seeds, retry: { initialMs: 5, maxMs: 50 }, ...clientOptions })
  t.teardown(async () => {
    await client.close()
    await cluster.close()
  })
  return { cluster, client }
}

/** Waits until `predicate` holds; rejects after `limitMs` (a bound, not a measurement). */
export async function waitFor(what: string, predicate: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A queue name whose shard is `shard` (placement is a hash: search a bounded range of names). */
export function queueInShard(cluster: FakeCluster, shard: number, prefix = 'q'): string {
  for (let i = 0; i < 10_000; i++) {
    const name = `${prefix}${i}`
    if (shardForQueue(name, cluster.shardCount) === shard) return name
  }
  throw new Error(`no queue name found for shard ${shard}`)
}
