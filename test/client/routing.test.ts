// Routing and retries of the SDK against the fake cluster: straight to the
// shard's leader, redirects, backoff on UNAVAILABLE and the deadline.
import t from 'tap'
import { TroupeClientError } from '../../src/client/index.js'
import { fakeClusterWithClient, queueInShard } from './helpers.js'

t.test('each queue op goes straight to the leader of its shard', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 4 })
  const names = [0, 1, 2, 3].map((shard) => queueInShard(cluster, shard))
  for (const name of names) {
    await client.queues.put(name)
    await client.queues.send(name, { hello: name })
  }
  for (const name of names) {
    const leader = cluster.leaderOfQueue(name)
    for (const node of cluster.nodes) {
      const sends = node.ops('send').filter((r) => r['queue'] === name).length
      t.equal(sends, node === leader ? 1 : 0, `send to ${name} reached node ${node.id} ${sends} time(s)`)
    }
  }
  t.equal(cluster.ops('send').length, 4, 'no redirect was needed')
})

t.test('KV ops go to the leader of the key and round-trip values', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t)
  const version = await client.kv.put('color', 'blue')
  const entry = await client.kv.get('color')
  t.ok(Buffer.isBuffer(entry?.value))
  t.equal(entry?.value.toString(), 'blue')
  t.equal(entry?.version, version)
  t.equal(cluster.leaderOfKey('color').ops('kv.put').length, 1)
  await client.kv.delete('color')
  t.equal(await client.kv.get('color'), undefined)
  await t.rejects(client.kv.delete('color'), { code: 'KEY_NOT_FOUND', attempts: 1 })
  await t.rejects(client.kv.put('color', 'red', { ifVersion: 42 }), { code: 'CONFLICT' })
})

t.test('NOT_LEADER: the client follows the leader named in the answer and remembers it', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 4 })
  const name = queueInShard(cluster, 0)
  await client.queues.put(name)
  const oldLeader = cluster.leaderOfQueue(name)
  const newLeaderId = (oldLeader.id % 3) + 1
  cluster.leaders.set(0, newLeaderId) // the client's map still names the old leader
  await client.queues.send(name, 'one')
  await client.queues.send(name, 'two')
  t.equal(oldLeader.ops('send').length, 1, 'the old leader was asked once and answered NOT_LEADER')
  t.equal(cluster.node(newLeaderId).ops('send').length, 2, 'both sends ran on the new leader')
})

t.test('MOVED: the client goes to the node named in the answer', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 4 })
  const name = queueInShard(cluster, 1)
  await client.queues.put(name)
  const leader = cluster.leaderOfQueue(name)
  const other = cluster.nodes.find((n) => n !== leader)!
  // The map says `leader`, which now holds no replica: it answers MOVED naming `other`.
  cluster.intercept = (node, request) => {
    if (request.op !== 'send') return undefined
    if (node === leader) return { ok: false, error: { code: 'MOVED', message: 'moved', leader: { id: other.id, tcp: other.address } } }
    if (node === other) return { ok: true, r: { id: 'from-other' } }
    return undefined
  }
  t.equal(await client.queues.send(name, 'x'), 'from-other')
  t.equal(leader.ops('send').length, 1)
  t.equal(other.ops('send').length, 1)
})

t.test('UNAVAILABLE is retried with backoff until it succeeds', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t)
  await client.queues.put('jobs')
  let refusals = 0
  cluster.intercept = (_node, request) => {
    if (request.op === 'send' && refusals < 3) {
      refusals++
      return { ok: false, error: { code: 'UNAVAILABLE', message: 'no quorum', retryAfterMs: 10 } }
    }
    return undefined
  }
  const id = await client.queues.send('jobs', 'payload')
  t.equal(refusals, 3)
  const sends = cluster.ops('send')
  t.equal(sends.length, 4, 'three refusals, then the success')
  t.equal(new Set(sends.map((s) => s['dedupId'])).size, 1, 'every retry carried the same dedupId')
  t.equal((await client.queues.receive('jobs'))[0]?.id, id)
})

t.test('past the deadline the call fails with DEADLINE_EXCEEDED, its attempts and the last error', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, {}, { deadlineMs: 300, retry: { initialMs: 10, maxMs: 40 } })
  await client.queues.put('jobs')
  cluster.intercept = (_node, request) => (request.op === 'send' ? { ok: false, error: { code: 'UNAVAILABLE', message: 'electing' } } : undefined)
  const error = await client.queues.send('jobs', 'x').then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(error instanceof TroupeClientError, 'a TroupeClientError')
  const e = error as TroupeClientError
  t.equal(e.code, 'DEADLINE_EXCEEDED')
  t.ok(e.attempts > 1, `several attempts (${e.attempts})`)
  t.equal(e.attempts, cluster.ops('send').length, 'attempts counts the requests sent')
  t.match(e.message, /send on queue 'jobs'/)
  t.equal((e.cause as TroupeClientError).code, 'UNAVAILABLE')
})

t.test('a request held without answer ends at the deadline too', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, {}, { deadlineMs: 200 })
  cluster.intercept = (_node, request) => (request.op === 'queue.get' ? 'hold' : undefined)
  await t.rejects(client.queues.get('jobs'), { code: 'DEADLINE_EXCEEDED', attempts: 1 })
})

t.test('errors that retrying cannot fix fail at once, with their details', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t)
  await t.rejects(client.queues.send('nope', 'x'), { code: 'QUEUE_NOT_FOUND', attempts: 1 })
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'a')
  const [message] = await client.queues.receive('jobs')
  const error = await client.queues.ack('jobs', [message!.receipt, 'bogus']).catch((e: unknown) => e)
  t.match(error, { code: 'RECEIPT_NOT_FOUND', missing: ['bogus'], attempts: 1 })
  t.equal(cluster.ops('ack').length, 1)
})

t.test('a wrong token fails connect() with UNAUTHORIZED', async (t) => {
  const { FakeCluster } = await import('./fake-cluster.js')
  const cluster = await FakeCluster.start({ nodes: 1, token: 'sesame' })
  t.teardown(() => cluster.close())
  const { connect } = await import('../../src/client/index.js')
  await t.rejects(connect({ nodes: cluster.seeds, token: 'wrong' }), { code: 'UNAUTHORIZED' })
  const client = await connect({ nodes: cluster.seeds, token: 'sesame' })
  t.equal((await client.cluster()).shardCount, cluster.shardCount)
  await client.close()
  await t.rejects(client.queues.get('x'), { code: 'CLOSED' })
})

t.test('connect() finds the cluster through any live seed', async (t) => {
  const { FakeCluster } = await import('./fake-cluster.js')
  const cluster = await FakeCluster.start({ nodes: 2 })
  t.teardown(() => cluster.close())
  const { connect } = await import('../../src/client/index.js')
  const client = await connect({ nodes: ['127.0.0.1:1', ...cluster.seeds] })
  t.teardown(() => client.close())
  t.equal((await client.cluster()).nodes.length, 2)
})

t.test('NOT_LEADER without a leader (an election): the client backs off and asks again', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 1 })
  await client.queues.put('jobs')
  const heir = cluster.nodes.find((n) => n !== cluster.leaderOfQueue('jobs'))!
  cluster.leaders.set(0, 0) // nobody leads: every node answers NOT_LEADER without a hint
  let refusals = 0
  cluster.intercept = (_node, request) => {
    if (request.op === 'send' && ++refusals === 5) cluster.leaders.set(0, heir.id) // elected
    return undefined
  }
  const id = await client.queues.send('jobs', 'after the election')
  t.ok(refusals >= 5, `asked ${refusals} times`)
  t.equal(heir.ops('send').at(-1)?.['body'], 'after the election')
  t.ok(cluster.queues.get('jobs')!.messages.has(id))
})

t.test('backoff delays: full jitter under an exponential bound, never below retryAfterMs', async (t) => {
  const { retryDelayMs } = await import('../../src/client/retry-backoff.js')
  const backoff = { initialMs: 20, maxMs: 1_000 }
  t.equal(retryDelayMs(0, backoff, 0, () => 0), 20, 'random 0: the whole bound')
  t.equal(retryDelayMs(3, backoff, 0, () => 0), 160, 'the bound doubles per attempt')
  t.equal(retryDelayMs(30, backoff, 0, () => 0), 1_000, 'capped at maxMs')
  t.equal(retryDelayMs(3, backoff, 0, () => 0.999_999), 0, 'random near 1: next to nothing')
  t.equal(retryDelayMs(0, backoff, 250, () => 0.5), 250, "the node's retryAfterMs is a floor")
  for (let attempt = 0; attempt < 12; attempt++) {
    const delay = retryDelayMs(attempt, backoff)
    if (delay < 0 || delay > Math.min(1_000, 20 * 2 ** attempt)) t.fail(`attempt ${attempt}: ${delay} ms is out of bounds`)
  }
})
