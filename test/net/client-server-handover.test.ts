// A graceful stop as `troupe start` does it, on a 3-node in-process cluster:
// the client server stops accepting, the node hands its shards over while
// the open connections are still served, then everything closes. A client
// whose shard moves hears NOT_LEADER naming the new leader (and goes there
// at once), never the "shutting down" refusal whose retry hint made it wait.
import t from 'tap'
import { shardForQueue } from '../../src/cluster/placement.js'
import { eventually } from '../node/helpers.js'
import { startClientCluster } from './client-cluster.js'
import { ok, WireClient, type WireAnswer } from './client-wire.js'

const SHARDS = 3
const { nodes, servers, connect } = await startClientCluster(t, 'troupe-client-handover-', SHARDS)

t.test('a stopping node hands its shards over while its open connections are served; clients follow NOT_LEADER', async (t) => {
  // Node 2 leads the shard of this queue (its preferred replica, at start).
  const queue = Array.from({ length: 1000 }, (_, i) => `handover-${i}`).find((name) => shardForQueue(name, SHARDS) === 1)!
  const shard = shardForQueue(queue, SHARDS)
  await eventually(async () => ((await nodes[1]!.status()).shards.find((s) => s.id === shard)?.leader === 2 ? true : undefined), 10_000, 'node 2 leading')
  const stopping = await connect(1)
  t.match(ok(await stopping.request('queue.put', { queue })), { created: true })

  servers[1]!.stopAccepting()
  await t.rejects(WireClient.open(servers[1]!.address.port), { code: 'ECONNREFUSED' }, 'new connections are refused at once')

  // Sends on the open connection, a few at a time, for as long as the shard moves.
  let moved = false
  const handOver = nodes[1]!.handOverLeadership().then(() => (moved = true))
  const answers: WireAnswer[] = []
  for (let n = 0; !moved; n++) answers.push(...(await stopping.pipeline([0, 1, 2].map((k) => ({ op: 'send', args: { queue, body: { n, k } } })))))
  await handOver
  answers.push(await stopping.request('send', { queue, body: { n: 'after' } }))
  const refused = answers.filter((answer) => !answer.ok)
  t.ok(refused.length > 0, 'the send after the hand-over at least was refused')
  let newLeader: { id: number; tcp: string } | undefined
  for (const answer of refused) {
    t.match(answer.error, { code: 'NOT_LEADER', leader: { id: Number, tcp: String } }, 'NOT_LEADER naming the new leader, not UNAVAILABLE')
    newLeader ??= (answer.error as unknown as { leader: { id: number; tcp: string } }).leader
  }
  t.not(newLeader!.id, 2)
  t.equal(newLeader!.tcp, servers[newLeader!.id - 1]!.advertised)

  // The named leader serves; the refused sends added nothing.
  const leader = await connect(newLeader!.id - 1)
  t.match(ok(await leader.request('send', { queue, body: { n: 'moved' } })), { id: String })
  const served = answers.length - refused.length
  t.match(ok(await leader.request('queue.get', { queue })), { stats: { total: served + 1 } })

  await servers[1]!.close()
  await nodes[1]!.close()
  t.match(ok(await leader.request('send', { queue, body: { n: 'still' } })), { id: String }, 'the two other nodes go on')
})
