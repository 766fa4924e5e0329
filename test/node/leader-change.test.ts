// A graceful stop of the node that leads a shard while writes stream through
// another node: leadership moves, the proposals in flight on the old leader
// are committed by the new one and answered as successes, and every
// acknowledged message is stored exactly once.
import t from 'tap'
import { shardForQueue } from '../../src/cluster/placement.js'
import type { TroupeNode } from '../../src/index.js'
import { freePort, removeDir, startTestNode, tempDir } from './helpers.js'

const SHARDS = 2
const dir = await tempDir('troupe-leader-change-')
const ports = [await freePort(), await freePort(), await freePort()]
const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
const nodes: (TroupeNode | undefined)[] = await Promise.all(
  [1, 2, 3].map((id) =>
    startTestNode(`${dir}/node-${id}`, { id, cluster, peer: `127.0.0.1:${ports[id - 1]}`, shards: SHARDS, clusterSecret: 'test-secret' }),
  ),
)
t.teardown(async () => {
  await Promise.all(nodes.map((node) => node?.close()))
  await removeDir(dir)
})

t.test('writes in flight while their leader stops gracefully all succeed, each stored once', { timeout: 60_000 }, async (t) => {
  const queue = 'handover'
  await nodes[0]!.queues.put(queue)
  const shard = shardForQueue(queue, SHARDS)
  const leaderId = (await nodes[0]!.status()).shards.find((s) => s.id === shard)!.leader
  t.ok(leaderId > 0, 'the shard has a leader')
  const via = nodes.find((node) => node!.id !== leaderId)!

  const acknowledged: string[] = []
  const errors: string[] = []
  let stop = false
  let sent = 0
  const senders = Array.from({ length: 32 }, async (_, sender) => {
    while (!stop) {
      const n = sent++
      try {
        acknowledged.push(await via.queues.send(queue, { sender, n }))
      } catch (error) {
        errors.push(`${(error as { code?: string }).code}: ${(error as Error).message}`)
      }
    }
  })
  await new Promise((resolve) => setTimeout(resolve, 500))
  const before = acknowledged.length
  await nodes[leaderId - 1]!.close()
  nodes[leaderId - 1] = undefined
  await new Promise((resolve) => setTimeout(resolve, 500))
  stop = true
  await Promise.all(senders)

  t.ok(before > 0 && acknowledged.length > before, `sends succeeded before (${before}) and after (${acknowledged.length - before}) the stop`)
  t.same(errors, [], 'no send failed: none was left with an unknown outcome')
  const newLeader = (await via.status()).shards.find((s) => s.id === shard)!.leader
  t.not(newLeader, leaderId, 'another node leads the shard')

  const received: string[] = []
  for (;;) {
    const batch = await via.queues.receive(queue, { max: 100 })
    if (batch.length === 0) break
    received.push(...batch.map((m) => m.id))
  }
  t.equal(new Set(received).size, received.length, 'no message stored twice')
  t.same([...received].sort(), [...acknowledged].sort(), 'every acknowledged message is stored, nothing else')
})
