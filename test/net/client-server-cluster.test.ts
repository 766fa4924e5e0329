// The client protocol on a 3-node in-process cluster, each node with its own
// client server: a follower answers NOT_LEADER naming the leader's TCP
// address, the leader serves, and a `forward` connection makes any node serve.
import t from 'tap'
import { shardForKey, shardForQueue } from '../../src/cluster/placement.js'
import { eventually } from '../node/helpers.js'
import { startClientCluster } from './client-cluster.js'
import { ok, type WireAnswer } from './client-wire.js'

const SHARDS = 4
const { nodes, servers, connect } = await startClientCluster(t, 'troupe-client-cluster-', SHARDS)

/** The shard's leader once every node names the same one twice in a row (leaders move back to their preferred replica early on). */
async function stableLeader(shard: number): Promise<number> {
  let previous = 0
  return eventually(async () => {
    const seen = await Promise.all(nodes.map(async (node) => (await node.status()).shards.find((s) => s.id === shard)!.leader))
    const agreed = seen.every((id) => id === seen[0]) && seen[0]! > 0 ? seen[0]! : 0
    const stable = agreed > 0 && agreed === previous
    previous = agreed
    if (!stable) await new Promise((resolve) => setTimeout(resolve, 200))
    return stable ? agreed : undefined
  }, 20_000, `a stable leader of shard ${shard}`)
}

function queueInShard(shard: number, prefix: string): string {
  for (let i = 0; i < 10_000; i++) if (shardForQueue(`${prefix}-${i}`, SHARDS) === shard) return `${prefix}-${i}`
  throw new Error(`no queue name for shard ${shard}`)
}

function keyInShard(shard: number, prefix: string): string {
  for (let i = 0; i < 10_000; i++) if (shardForKey(`${prefix}-${i}`, SHARDS) === shard) return `${prefix}-${i}`
  throw new Error(`no key for shard ${shard}`)
}

function errorOf(answer: WireAnswer): Record<string, unknown> {
  if (answer.ok || answer.error === undefined) throw new Error(`expected an error, got ${JSON.stringify(answer)}`)
  return answer.error as unknown as Record<string, unknown>
}

t.test('cluster, asked of any node, names every member with its tcp address', async (t) => {
  const map = ok<{ node: number; nodes: { id: number; tcp: string; state: string }[] }>(await (await connect(1)).request('cluster'))
  t.equal(map.node, 2)
  t.same(
    map.nodes.map((member) => [member.id, member.tcp, member.state]).sort(),
    [
      [1, servers[0]!.advertised, 'up'],
      [2, servers[1]!.advertised, 'self'],
      [3, servers[2]!.advertised, 'up'],
    ],
  )
})

t.test('a follower answers NOT_LEADER with the leader {id, tcp}; the leader serves; nothing was applied by the refusal', async (t) => {
  const shard = 0
  const leaderId = await stableLeader(shard)
  const followerIndex = [0, 1, 2].find((i) => i + 1 !== leaderId)!
  const queue = queueInShard(shard, 'routed')
  const key = keyInShard(shard, 'routed')
  const follower = await connect(followerIndex)
  const leaderHint = { id: leaderId, tcp: servers[leaderId - 1]!.advertised }

  t.match(errorOf(await follower.request('queue.put', { queue })), { code: 'NOT_LEADER', leader: leaderHint })
  const leader = await connect(leaderId - 1)
  t.match(ok(await leader.request('queue.put', { queue })), { created: true })
  t.match(errorOf(await follower.request('send', { queue, body: 'refused' })), { code: 'NOT_LEADER', leader: leaderHint })
  t.match(errorOf(await follower.request('kv.put', { key, value: 'refused' })), { code: 'NOT_LEADER', leader: leaderHint })
  t.match(ok(await leader.request('send', { queue, body: 'served' })), { id: String })
  t.match(ok(await leader.request('queue.get', { queue })), { stats: { total: 1 } }, 'the refused send added nothing')
})

t.test('forward: true makes a follower serve every op through the leader', async (t) => {
  const shard = 1
  const leaderId = await stableLeader(shard)
  const followerIndex = [0, 1, 2].find((i) => i + 1 !== leaderId)!
  const queue = queueInShard(shard, 'forwarded')
  const key = keyInShard(shard, 'forwarded')
  const follower = await connect(followerIndex, { forward: true })
  t.match(ok(await follower.request('queue.put', { queue })), { created: true })
  const { id } = ok<{ id: string }>(await follower.request('send', { queue, body: { n: 1 } }))
  const got = ok<{ messages: { id: string; receipt: string; body: unknown }[] }>(await follower.request('receive', { queue, waitMs: 2_000 }))
  t.same(got.messages.map((m) => [m.id, m.body]), [[id, { n: 1 }]])
  t.same(ok(await follower.request('ack', { queue, receipt: got.messages[0]!.receipt })), {})
  const { version } = ok<{ version: number }>(await follower.request('kv.put', { key, value: 'v' }))
  t.match(ok(await follower.request('kv.get', { key })), { version })
  t.match(ok(await follower.request('queue.list')), { queues: [{ name: String }] })
})
