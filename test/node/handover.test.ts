// Two nodes of a 3-node cluster stop one after the other: the first tells
// the others it is stopping, so the second hands its shards to the one node
// that stays, not to the one that is leaving (which would refuse them and
// leave the shards to an election).
import t from 'tap'
import type { TroupeNode } from '../../src/index.js'
import { eventually, freePort, removeDir, startTestNode, tempDir } from './helpers.js'

const SHARDS = 6
const dir = await tempDir('troupe-handover-')
const ports = [await freePort(), await freePort(), await freePort()]
const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
const nodes: TroupeNode[] = await Promise.all(
  [1, 2, 3].map((id) => startTestNode(`${dir}/node-${id}`, { id, cluster, peer: `127.0.0.1:${ports[id - 1]}`, shards: SHARDS, sync: 'none' })),
)
t.teardown(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  await removeDir(dir)
})

const leaders = async (node: TroupeNode) => (await node.status()).shards.map((shard) => shard.leader)

t.test('a node that stops hands its shards to members that are not stopping too', async (t) => {
  await eventually(async () => ((await leaders(nodes[0]!)).every((id) => id > 0) ? true : undefined), 10_000, 'leaders')
  t.ok((await leaders(nodes[0]!)).includes(1), 'node 1 leads some shards')

  await nodes[1]!.handOverLeadership()
  await eventually(async () => (nodes[0]!.nodes().find((member) => member.id === 2)?.leaving === true ? true : undefined), 5_000, 'node 1 to hear that node 2 is leaving')
  t.notOk((await leaders(nodes[2]!)).includes(2), 'node 2 handed all its shards over')

  await nodes[0]!.handOverLeadership()
  await eventually(async () => ((await leaders(nodes[2]!)).every((id) => id === 3) ? true : undefined), 5_000, 'node 3 to lead every shard')
  t.same(await leaders(nodes[2]!), Array(SHARDS).fill(3), 'every shard went to node 3, none to the leaving node 2')
})
