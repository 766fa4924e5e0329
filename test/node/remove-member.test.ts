// Replacing a lost member: a three-node cluster loses node 3; a member
// removes it (`removeMember`), the two left serve with two voters, a new
// node 4 joins in its place and catches up. A removed id cannot join again;
// a restarted member whose `cluster` option still lists the removed node
// does not take it back; the removed node itself, started again from its
// data directory, is refused by the members. A running member can remove
// itself (over HTTP here): every shard drops it, the one it led included.
import t from 'tap'
import type { TroupeNode } from '../../src/index.js'
import { startHttpServer } from '../../src/http/index.js'
import { eventually, freePort, membersSettle, refusal, removeDir, startTestNode, tempDir } from './helpers.js'

const dir = await tempDir('troupe-remove-')
const secret = 'remove-secret'
// Three shards: with members 1, 2 and 4, shard 2's preferred leader is node 4 (see replicasOf).
const base = { shards: 3, sync: 'none' as const, clusterSecret: secret, snapshotEveryEntries: 50, entriesKeptAfterSnapshot: 5, readyTimeoutMs: 60_000 }
const ports = [await freePort(), await freePort(), await freePort()]
const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
const nodes = new Map<number, TroupeNode>()
t.teardown(async () => {
  await Promise.all([...nodes.values()].map((node) => node.close()))
  await removeDir(dir)
})

const peerOf = (node: TroupeNode) => node.nodes()[0]!.peer
const startMember = (id: number) => startTestNode(`${dir}/node-${id}`, { ...base, id, cluster, peer: `127.0.0.1:${ports[id - 1]}` })

t.test('a lost member is removed, the two left serve, and a new node takes its place', async (t) => {
  const started = await Promise.all([1, 2, 3].map(startMember))
  for (const node of started) nodes.set(node.id, node)
  const [first, second, third] = started as [TroupeNode, TroupeNode, TroupeNode]
  await membersSettle(first, [1, 2, 3])
  await first.queues.put('jobs')
  for (let i = 0; i < 30; i++) await second.queues.send('jobs', { i })
  await third.kv.put('before', 'removal')

  // Node 3's machine is gone.
  await third.close()
  nodes.delete(3)

  await t.rejects(first.removeMember(9), { code: 'INVALID_ARGUMENT', message: /node 9 is not a member/ })
  await first.removeMember(3)
  for (const node of [first, second]) {
    await membersSettle(node, [1, 2])
    t.same(node.nodes().map((n) => n.id).sort(), [1, 2], `node ${node.id} no longer lists node 3`)
  }
  await first.removeMember(3) // asked again (a retry): already done
  // Enough entries for snapshots after the removal: the new member learns of it from a snapshot.
  for (let i = 30; i < 150; i++) await first.queues.send('jobs', { i })

  const fourth = await startTestNode(`${dir}/node-4`, { ...base, id: 4, peer: '127.0.0.1:0', join: peerOf(second) })
  nodes.set(4, fourth)
  for (const node of [first, second, fourth]) await membersSettle(node, [1, 2, 4])
  t.equal((await fourth.queues.get('jobs')).stats.visible, 150, 'every message, read through the new member')
  t.equal(Buffer.from((await fourth.kv.get('before'))!.value).toString(), 'removal')

  const again = await refusal(startTestNode(`${dir}/node-3b`, { ...base, id: 3, peer: '127.0.0.1:0', join: peerOf(first) }))
  t.equal(again.code, 'CONFLICT')
  t.match(again.message, /node id 3 was removed from this cluster/)
})

t.test('a member restarted with its first cluster option does not take the removed node back', async (t) => {
  await nodes.get(1)!.close()
  nodes.delete(1)
  const first = await startMember(1)
  nodes.set(1, first)
  t.same(first.nodes().map((n) => n.id).sort(), [1, 2, 4], 'node 3 stays removed; node 4 comes from the data directory')
  await membersSettle(first, [1, 2, 4])
})

t.test('the removed node, started again from its old data directory, is told so and does not start', async (t) => {
  const started = Date.now()
  const refused = await refusal(startMember(3))
  t.equal(refused.code, 'CONFLICT')
  t.match(refused.message, /node 3 was removed from this cluster \(node \d refuses it\)/)
  t.ok(Date.now() - started < 15_000, 'refused by the members, not after the 60 s wait for leaders')
})

t.test('a running member removes itself (over HTTP): it hands its leaderships over and every shard drops it', async (t) => {
  const first = nodes.get(1)!
  const fourth = nodes.get(4)!
  // Node 4 leads shard 2 (its preferred replica), so that its removal has a leadership to move.
  await eventually(async () => ((await first.status()).shards[2]!.leader === 4 ? true : undefined), 20_000, 'node 4 leading shard 2')
  const server = await startHttpServer(fourth, { host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  const url = (path: string) => `http://${server.address.host}:${server.address.port}${path}`
  const bad = await fetch(url('/v1/cluster/nodes/abc'), { method: 'DELETE' })
  t.equal(bad.status, 400)
  t.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT')
  const removed = await fetch(url('/v1/cluster/nodes/4'), { method: 'DELETE' })
  const answer = await removed.json()
  t.equal(removed.status, 200, JSON.stringify(answer))
  t.same(answer, { removed: 4 })
  for (const id of [1, 2]) await membersSettle(nodes.get(id)!, [1, 2])
  for (const id of [1, 2]) {
    const leaders = (await nodes.get(id)!.status()).shards.map((s) => s.leader)
    t.ok(leaders.every((leader) => leader === 1 || leader === 2), `node ${id}: every shard is led by node 1 or 2 (${leaders.join(', ')})`)
  }
  await first.queues.send('jobs', { i: 'after' })
  t.equal((await nodes.get(2)!.queues.get('jobs')).stats.total, 151)
})

t.test('a node that joined and was removed stays removed when a member restarts from a snapshot taken before the removal', async (t) => {
  const own = new Map<number, TroupeNode>()
  t.teardown(() => Promise.all([...own.values()].map((node) => node.close())))
  // One shard and snapshots every 50 entries: shard 0's snapshot, taken before the removal, still holds node 3's address.
  const options = { ...base, shards: 1, peer: '127.0.0.1:0' }
  const first = await startTestNode(`${dir}/restart-1`, { ...options, id: 1 })
  own.set(1, first)
  const second = await startTestNode(`${dir}/restart-2`, { ...options, id: 2, join: peerOf(first) })
  own.set(2, second)
  const third = await startTestNode(`${dir}/restart-3`, { ...options, id: 3, join: peerOf(first) })
  own.set(3, third)
  for (const node of [first, second, third]) await membersSettle(node, [1, 2, 3])
  await first.queues.put('jobs')
  for (let i = 0; i < 60; i++) await first.queues.send('jobs', { i })
  await third.close()
  own.delete(3)
  await first.removeMember(3)
  for (const node of [first, second]) await membersSettle(node, [1, 2])
  const firstPeer = peerOf(first)
  await first.close()
  own.delete(1)
  const again = await startTestNode(`${dir}/restart-1`, { ...options, id: 1, peer: firstPeer })
  own.set(1, again)
  await membersSettle(again, [1, 2])
  t.same(again.nodes().map((n) => n.id).sort(), [1, 2], 'node 3 is not a member again')
})
