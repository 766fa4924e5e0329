// A cluster that grows by joining (`join`): a single node takes a second
// and a third member, each catching up by snapshot; everything written
// before is read through the new members; a fourth, a taken id and a wrong
// secret are refused without writing anything; the members survive a
// restart of the first node without any member list.
import { access } from 'node:fs/promises'
import t from 'tap'
import type { TroupeNode } from '../../src/index.js'
import { membersSettle, refusal, removeDir, startTestNode, tempDir } from './helpers.js'

const dir = await tempDir('troupe-join-')
const secret = 'join-secret'
const base = { shards: 2, sync: 'none' as const, clusterSecret: secret, peer: '127.0.0.1:0', snapshotEveryEntries: 50, entriesKeptAfterSnapshot: 5 }
const nodes = new Map<number, TroupeNode>()
t.teardown(async () => {
  await Promise.all([...nodes.values()].map((node) => node.close()))
  await removeDir(dir)
})

const peerOf = (node: TroupeNode) => node.nodes()[0]!.peer

t.test('a single node takes two more by join; each catches up and serves what was written before', async (t) => {
  const first = await startTestNode(`${dir}/node-1`, { ...base, id: 1 })
  nodes.set(1, first)
  await first.queues.put('jobs')
  const sent: string[] = []
  // Enough entries for a snapshot, so the new members catch up by snapshot and not from index 1.
  for (let i = 0; i < 120; i++) sent.push(await first.queues.send('jobs', { i }))
  await first.kv.put('before', 'joining')

  const second = await startTestNode(`${dir}/node-2`, { ...base, id: 2, join: peerOf(first) })
  nodes.set(2, second)
  t.same(second.nodes().map((n) => n.id).sort(), [1, 2], 'the new node knows the member it joined through')
  await membersSettle(first, [1, 2])
  await membersSettle(second, [1, 2])
  t.ok((await second.status()).shards.some((s) => s.snapshotsInstalled > 0), 'it caught up by snapshot')

  // The third joins through the second, which it learns nothing else from: the first learns it from the log.
  const third = await startTestNode(`${dir}/node-3`, { ...base, id: 3, join: peerOf(second) })
  nodes.set(3, third)
  for (const node of [first, second, third]) await membersSettle(node, [1, 2, 3])
  t.same(first.nodes().map((n) => n.id).sort(), [1, 2, 3], 'the first node links to the third')
  t.equal((await third.queues.get('jobs')).stats.visible, 120, 'the queue, read through the third node')
  t.equal(Buffer.from((await third.kv.get('before'))!.value).toString(), 'joining')
  const got = await third.queues.receive('jobs', { max: 100 })
  t.equal(got.length, 100)
  t.ok(got.every((m) => sent.includes(m.id)))
  await third.kv.put('after', 'three')
  t.equal(Buffer.from((await first.kv.get('after'))!.value).toString(), 'three')
})

t.test('a fourth node, a taken id and a wrong secret are refused, and nothing is left behind', async (t) => {
  const through = peerOf(nodes.get(2)!)
  const fourth = await refusal(startTestNode(`${dir}/node-4`, { ...base, id: 4, join: through }))
  t.equal(fourth.code, 'INVALID_ARGUMENT')
  t.match(fourth.message, /at most 3/)
  await t.rejects(access(`${dir}/node-4/node.json`), 'the refused node wrote no identity: it may try again')

  // Through a member with a lower id (it dials node 2 itself) and through one with a higher id (it takes the connection).
  const viaLower = await refusal(startTestNode(`${dir}/node-2b`, { ...base, id: 2, join: peerOf(nodes.get(1)!) }))
  t.match(viaLower.message, /node id 2 is already a member/)
  const viaHigher = await refusal(startTestNode(`${dir}/node-2c`, { ...base, id: 2, join: peerOf(nodes.get(3)!) }))
  t.equal(viaHigher.code, 'CONFLICT')
  t.match(viaHigher.message, /node id 2 is taken/)

  const wrongSecret = await refusal(startTestNode(`${dir}/node-5`, { ...base, id: 5, clusterSecret: 'not-the-secret', join: through }))
  t.equal(wrongSecret.code, 'UNAVAILABLE')
  t.match(wrongSecret.message, /cannot join the cluster through/)
  for (const node of nodes.values()) t.same((await node.status()).shards.map((s) => [...s.members].sort()), [[1, 2, 3], [1, 2, 3]], `node ${node.id}: the members did not change`)
})

t.test('with the first node gone the other two serve; it comes back knowing every member without being told', async (t) => {
  const firstPeer = peerOf(nodes.get(1)!)
  await nodes.get(1)!.close()
  nodes.delete(1)
  await nodes.get(2)!.queues.send('jobs', { i: 'while the first is away' })
  await nodes.get(3)!.kv.put('away', 'yes')
  // No cluster option: the members come from its data directory.
  const first = await startTestNode(`${dir}/node-1`, { ...base, id: 1, peer: firstPeer })
  nodes.set(1, first)
  t.same(first.nodes().map((n) => n.id).sort(), [1, 2, 3])
  await membersSettle(first, [1, 2, 3])
  t.equal(Buffer.from((await first.kv.get('away'))!.value).toString(), 'yes')
  t.equal((await first.queues.get('jobs')).stats.total, 121)
})

t.test('two nodes that join a two-node cluster at once, through different members: one gets in', async (t) => {
  const own = new Map<number, TroupeNode>()
  t.teardown(() => Promise.all([...own.values()].map((node) => node.close())))
  const first = await startTestNode(`${dir}/race-1`, { ...base, id: 1 })
  own.set(1, first)
  const second = await startTestNode(`${dir}/race-2`, { ...base, id: 2, join: peerOf(first) })
  own.set(2, second)
  await membersSettle(first, [1, 2])
  const outcomes = await Promise.allSettled([
    startTestNode(`${dir}/race-3`, { ...base, id: 3, join: peerOf(first) }),
    startTestNode(`${dir}/race-4`, { ...base, id: 4, join: peerOf(second) }),
  ])
  const joined = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
  for (const node of joined) own.set(node.id, node)
  const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string; message: string }] : []))
  t.equal(joined.length, 1, 'one of them joined')
  t.equal(refused.length, 1, 'the other was refused')
  t.equal(refused[0]?.code, 'INVALID_ARGUMENT')
  await membersSettle(first, [1, 2, joined[0]!.id].sort())
})
