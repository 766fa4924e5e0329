// A 3-node cluster in this process (each node with its own WAL and shard
// threads, talking over loopback TCP): any node serves any request, a node
// that goes away leaves the others serving, and it catches up on return.
import t from 'tap'
import type { TroupeNode } from '../../src/index.js'
import { eventually, freePort, removeDir, startTestNode, tempDir } from './helpers.js'

const dir = await tempDir('troupe-cluster-')
const ports = [await freePort(), await freePort(), await freePort()]
const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
const options = (id: number) => ({
  id,
  cluster,
  peer: `127.0.0.1:${ports[id - 1]}`,
  shards: 4,
  snapshotEveryEntries: 100,
  // Followers more than 10 entries behind a snapshot catch up by snapshot.
  entriesKeptAfterSnapshot: 10,
  clusterSecret: 'test-secret',
})
const nodes: (TroupeNode | undefined)[] = await Promise.all([1, 2, 3].map((id) => startTestNode(`${dir}/node-${id}`, options(id))))
t.teardown(async () => {
  await Promise.all(nodes.map((node) => node?.close()))
  await removeDir(dir)
})

t.test('every node serves every request; writes through one are read through another', async (t) => {
  await nodes[0]!.queues.put('shared')
  const ids: string[] = []
  for (let i = 0; i < 30; i++) ids.push(await nodes[i % 3]!.queues.send('shared', { i }))
  const got = await nodes[2]!.queues.receive('shared', { max: 100 })
  t.same(got.map((m) => m.id).sort(), [...ids].sort())
  await nodes[1]!.kv.put('k', 'v')
  t.equal(Buffer.from((await nodes[2]!.kv.get('k'))!.value).toString(), 'v', 'a linearizable read on another node sees the write')
  const status = await nodes[0]!.status()
  t.ok(status.shards.every((s) => s.members.length === 3 && s.leader > 0))
})

t.test('requests and answers at the size limits cross threads and nodes, from every node', async (t) => {
  await nodes[0]!.queues.put('large')
  // Bodies of 1,000,000 bytes: a batch of ten is just under the 10 MiB request limit, and so is the answer of a receive of them.
  const body = (n: number) => Buffer.alloc(1_000_000, n)
  for (const [i, node] of nodes.entries()) {
    const ids = await node!.queues.sendBatch('large', Array.from({ length: 10 }, (_, j) => ({ body: body(10 * i + j) })))
    t.equal(ids.length, 10, `node ${i + 1} sent a batch of 10 MB`)
  }
  const firsts: number[] = []
  for (const [i, node] of nodes.entries()) {
    const messages = await node!.queues.receive('large', { max: 100 })
    t.equal(messages.length, 10, `node ${i + 1} received 10 MB in one answer (a receive stops at 10 MiB of bodies)`)
    for (const message of messages) {
      const bytes = message.body as Uint8Array
      t.equal(bytes.length, 1_000_000)
      firsts.push(bytes[0]!)
    }
    await node!.queues.ack('large', messages.map((message) => message.receipt))
  }
  t.same(firsts, Array.from({ length: 30 }, (_, n) => n), 'every body arrived, in send order')
  await nodes[1]!.kv.put('large', Buffer.alloc(1024 * 1024, 9))
  for (const node of nodes) t.equal((await node!.kv.get('large'))!.value.length, 1024 * 1024)
})

t.test('concurrent batches of 10 MB through every node all commit (one Ready holds several: WAL writes and Raft messages are cut to fit)', async (t) => {
  await nodes[0]!.queues.put('large-concurrent')
  const batch = Array.from({ length: 10 }, () => ({ body: Buffer.alloc(1_000_000, 5) }))
  const sent = await Promise.allSettled(nodes.flatMap((node) => [1, 2, 3].map(() => node!.queues.sendBatch('large-concurrent', batch))))
  t.same(
    sent.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.length : String(outcome.reason))),
    Array(9).fill(10),
  )
  for (const node of nodes) t.equal((await node!.queues.get('large-concurrent')).stats.total, 90)
})

t.test('direct routing answers NOT_LEADER naming the leader; the directory names every member', async (t) => {
  await nodes[0]!.queues.put('direct')
  const status = await nodes[0]!.status()
  const shard = status.shards.find((s) => s.leader > 0)!
  // A queue name that lands in that shard.
  const { shardForQueue } = await import('../../src/cluster/placement.js')
  let name = ''
  for (let i = 0; name === ''; i++) if (shardForQueue(`d-${i}`, 4) === shard.id) name = `d-${i}`
  const leader = nodes[shard.leader - 1]!
  const follower = nodes.find((node) => node !== undefined && node.id !== shard.leader)!
  await leader.direct.queues.put(name)
  t.equal((await leader.direct.queues.send(name, 'x')).length > 0, true, 'the leader serves a direct request')
  const refusal = await follower.direct.queues.send(name, 'y').then(
    () => undefined,
    (error: unknown) => error,
  )
  t.match(refusal, { code: 'NOT_LEADER', leaderId: shard.leader }, 'a follower refuses and names the leader')
  t.equal((await leader.queues.get(name)).stats.total, 1, 'the refused send added nothing')

  nodes.forEach((node, i) => node!.announce({ tcp: `127.0.0.1:${9000 + i}`, http: `127.0.0.1:${9100 + i}` }))
  const seen = await eventually(async () => {
    const members = nodes[0]!.nodes()
    return members.every((m) => m.tcp !== undefined) ? members : undefined
  })
  t.same(
    seen.map((m) => [m.id, m.state, m.tcp, m.http]),
    [
      [1, 'self', '127.0.0.1:9000', '127.0.0.1:9100'],
      [2, 'up', '127.0.0.1:9001', '127.0.0.1:9101'],
      [3, 'up', '127.0.0.1:9002', '127.0.0.1:9102'],
    ],
  )
})

t.test('with one node gone the other two keep serving; it catches up when it returns', async (t) => {
  const gone = 1 // node 2
  await nodes[gone]!.close()
  nodes[gone] = undefined
  await nodes[0]!.queues.put('after')
  const ids: string[] = []
  for (let i = 0; i < 250; i++) ids.push(await nodes[i % 2 === 0 ? 0 : 2]!.queues.send('after', { i }))
  for (let i = 0; i < 50; i++) await nodes[2]!.kv.put(`key-${i % 5}`, `v${i}`)
  nodes[gone] = await startTestNode(`${dir}/node-2`, options(2))
  const back = nodes[gone]!
  // The returning node catches up (by log or by snapshot: snapshots every 100 entries).
  const latest = (await nodes[0]!.status()).shards
  await eventually(
    async () => {
      const mine = (await back.status()).shards
      return mine.every((s) => s.appliedIndex >= latest.find((l) => l.id === s.id)!.commitIndex) ? true : undefined
    },
    30_000,
    'node 2 to catch up',
  )
  const { shardForQueue } = await import('../../src/cluster/placement.js')
  const afterShard = (await back.status()).shards.find((s) => s.id === shardForQueue('after', 4))!
  t.ok(afterShard.snapshotsInstalled >= 1, `the queue's shard caught up by snapshot (${afterShard.snapshotsInstalled} installed)`)
  const stale = await back.kv.get('key-4', { consistency: 'stale' })
  t.equal(Buffer.from(stale!.value).toString(), 'v49', 'its own replica has the writes made while it was away')
  const received = await back.queues.receive('after', { max: 100 })
  t.equal(received.length, 100)
  t.equal((await back.queues.get('after')).stats.total, 250)
})

t.test('leaders move back to their preferred replicas once the returning node has caught up', async (t) => {
  const { replicasOf } = await import('../../src/node/node-options.js')
  const members = new Map(ports.map((port, i) => [i + 1, `127.0.0.1:${port}`]))
  const settled = await eventually(
    async () => {
      const shards = (await nodes[0]!.status()).shards
      return shards.every((s) => s.leader === replicasOf(s.id, members)[0]) ? shards : undefined
    },
    30_000,
    'leaders to return to their preferred replicas',
  )
  t.same(new Set(settled.map((s) => s.leader)), new Set([1, 2, 3]), 'every node leads some shard again')
  // The hand-backs and the catch-up by snapshot show in the nodes' metrics.
  const metrics = await Promise.all(nodes.map((node) => node!.metrics()))
  const transfers = metrics.flatMap((m) => m.shards).reduce((sum, s) => sum + s.balanceTransfers, 0)
  t.ok(transfers >= 1, `leaderships handed back: ${transfers}`)
  t.ok(metrics[1]!.shards.some((s) => s.snapshotsInstalled >= 1), 'node 2 counts the snapshot it installed')
})
