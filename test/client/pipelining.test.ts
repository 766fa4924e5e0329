// Many calls share one connection: requests pipelined, answers matched by id,
// frames coalesced, and the client's in-flight cap respected.
import t from 'tap'
import { fakeClusterWithClient } from './helpers.js'

t.test('500 pipelined sends share one connection and each gets its own answer', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => client.queues.send('jobs', { i })))
  t.equal(new Set(ids).size, 500, '500 distinct ids')
  const node = cluster.node(1)
  t.equal(node.connectionsAccepted, 1, 'one connection')
  t.ok(node.maxInFlightSeen > 100, `requests overlapped on the wire (${node.maxInFlightSeen} at once)`)
  const queue = cluster.queues.get('jobs')!
  ids.forEach((id, i) => {
    if ((queue.messages.get(id)?.body as { i: number }).i !== i) t.fail(`id ${id} answered send ${i} with another message`)
  })
})

t.test('answers in any order reach the right callers', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  // Answer each kv.get after a delay that decreases with its key: the last asked is answered first.
  cluster.intercept = async (_node, request) => {
    if (request.op !== 'kv.get') return undefined
    const n = Number(request['key'])
    await new Promise((resolve) => setTimeout(resolve, 50 - n))
    return { ok: true, r: { value: Buffer.from(`value-${n}`), version: n } }
  }
  const entries = await Promise.all(Array.from({ length: 40 }, (_, n) => client.kv.get(String(n))))
  entries.forEach((entry, n) => {
    t.equal(entry?.value.toString(), `value-${n}`)
  })
})

t.test('the in-flight cap holds the extra requests in a local queue', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 }, { maxInFlightPerConnection: 16 })
  await client.queues.put('jobs')
  const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => client.queues.send('jobs', i)))
  t.equal(new Set(ids).size, 500)
  t.ok(cluster.node(1).maxInFlightSeen <= 16, `never more than 16 in flight (${cluster.node(1).maxInFlightSeen})`)
  t.ok(cluster.node(1).maxInFlightSeen >= 8, 'but pipelined up to the cap')
})

t.test("the node's welcome lowers the cap", async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1, maxInFlight: 4 })
  await client.queues.put('jobs')
  await Promise.all(Array.from({ length: 100 }, (_, i) => client.queues.send('jobs', i)))
  t.ok(cluster.node(1).maxInFlightSeen <= 4, `at most 4 in flight (${cluster.node(1).maxInFlightSeen})`)
})

t.test('a full local queue answers RATE_LIMITED and the call retries until it fits', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 }, { maxInFlightPerConnection: 2, maxQueuedPerConnection: 4 })
  await client.queues.put('jobs')
  const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => client.queues.send('jobs', i)))
  t.equal(new Set(ids).size, 50, 'every send went through in the end')
  t.equal(cluster.queues.get('jobs')!.messages.size, 50)
})

t.test('an idle connection sends keep-alive frames', async (t) => {
  const { FakeCluster } = await import('./fake-cluster.js')
  const { connect } = await import('../../src/client/index.js')
  const cluster = await FakeCluster.start({ nodes: 1 })
  t.teardown(() => cluster.close())
  const client = await connect({ nodes: cluster.seeds, keepAliveIntervalMs: 20 })
  t.teardown(() => client.close())
  const { waitFor } = await import('./helpers.js')
  await waitFor('two keep-alives', () => cluster.node(1).heartbeats >= 2)
  t.equal(cluster.node(1).requests.length, 1, 'keep-alives are not requests (only the cluster fetch is)')
})

t.test('many redirected calls share a rate-limited map refresh', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 1 })
  await client.queues.put('jobs')
  await new Promise((resolve) => setTimeout(resolve, 150)) // past the rate limit window of connect()'s own fetch
  const before = cluster.ops('cluster').length
  cluster.leaders.set(0, (cluster.leaders.get(0)! % 3) + 1)
  await Promise.all(Array.from({ length: 200 }, (_, i) => client.queues.send('jobs', i)))
  const refreshes = cluster.ops('cluster').length - before
  t.ok(refreshes >= 1 && refreshes <= 3, `200 redirected sends caused ${refreshes} map refresh(es)`)
})
