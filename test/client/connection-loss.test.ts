// A connection that dies mid-request: sends are retried with the same
// dedupId (so they never duplicate), acks are not (their outcome is unknown).
import t from 'tap'
import { fakeClusterWithClient } from './helpers.js'

t.test('a send whose connection drops after it was written is retried with the same dedupId', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  let drops = 0
  cluster.intercept = (_node, request) => {
    if (request.op === 'send' && drops === 0) {
      drops++
      return 'drop'
    }
    return undefined
  }
  const id = await client.queues.send('jobs', { n: 1 })
  const sends = cluster.ops('send')
  t.equal(sends.length, 2, 'sent, lost, sent again')
  t.equal(sends[0]!['dedupId'], sends[1]!['dedupId'], 'the retry reused the dedupId')
  t.equal(cluster.node(1).connectionsAccepted, 2, 'the client reconnected')
  t.equal((await client.queues.get('jobs')).stats.total, 1)
  t.equal((await client.queues.receive('jobs'))[0]?.id, id)
})

t.test('a send applied before the connection dropped resolves with the first id and adds nothing', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  let applied: string | undefined
  cluster.intercept = async (node, request) => {
    if (request.op === 'send' && applied === undefined) {
      // Apply it (as a node whose answer got lost would), then cut the connection.
      cluster.intercept = undefined
      applied = 'pending'
      const queue = cluster.queues.get('jobs')!
      queue.dedup.set(request['dedupId'] as string, 'm-first')
      queue.messages.set('m-first', { id: 'm-first', body: request['body'], priority: 0, sentAt: Date.now(), receiveCount: 0, visibleAt: 0, receipt: undefined })
      node.dropConnections()
      return 'hold'
    }
    return undefined
  }
  t.equal(await client.queues.send('jobs', 'once'), 'm-first')
  t.equal((await client.queues.get('jobs')).stats.total, 1, 'no duplicate')
})

t.test('an ack whose connection drops is not retried and fails with CONNECTION_LOST', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'x')
  const [message] = await client.queues.receive('jobs')
  cluster.intercept = (_node, request) => (request.op === 'ack' ? 'drop' : undefined)
  await t.rejects(client.queues.ack('jobs', message!.receipt), { code: 'CONNECTION_LOST', attempts: 1 })
  t.equal(cluster.ops('ack').length, 1, 'the ack was sent once')
  cluster.intercept = undefined
  t.equal((await client.queues.get('jobs')).stats.inFlight, 1, 'the client works again on a new connection')
})

t.test('kv.put is not retried after TIMEOUT; kv.get is', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  let timeouts = 0
  cluster.intercept = (_node, request) => {
    if ((request.op === 'kv.put' || request.op === 'kv.get') && timeouts < 2) {
      timeouts++
      return { ok: false, error: { code: 'TIMEOUT', message: 'commit did not finish in time' } }
    }
    return undefined
  }
  await t.rejects(client.kv.put('k', 'v'), { code: 'TIMEOUT', attempts: 1 })
  t.equal(await client.kv.get('k'), undefined, 'the read was retried past its TIMEOUT')
  t.equal(cluster.ops('kv.get').length, 2)
})

t.test('a node that goes away: calls move to the new leader once the map says so', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 1 })
  await client.queues.put('jobs')
  const oldLeader = cluster.leaderOfQueue('jobs')
  const heir = cluster.nodes.find((n) => n !== oldLeader)!
  oldLeader.dropConnections()
  await new Promise<void>((resolve) => oldLeader.server.close(() => resolve()))
  cluster.leaders.set(0, heir.id)
  const id = await client.queues.send('jobs', 'after failover')
  t.equal(heir.ops('send').length, 1)
  t.equal(cluster.queues.get('jobs')!.messages.get(id)?.body, 'after failover')
})

t.test('a node that hangs (answers nothing, closes nothing) is detected by a ping and left', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 3, shardCount: 1 }, { livenessTimeoutMs: 200 })
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'before')
  const [delivery] = await client.queues.receive('jobs')
  const hung = cluster.leaderOfQueue('jobs')
  const heir = cluster.nodes.find((n) => n !== hung)!
  cluster.intercept = (node) => (node === hung ? 'hold' : undefined)
  cluster.leaders.set(0, heir.id) // the others elected a new leader; the client does not know yet
  await t.rejects(client.queues.ack('jobs', delivery!.receipt), { code: 'CONNECTION_LOST', attempts: 1 }, 'an ack on the hung node: outcome unknown')
  t.ok(hung.ops('ping').length >= 1, 'a ping probed the silent connection')
  const id = await client.queues.send('jobs', 'after')
  t.ok(heir.ops('send').some((r) => r['body'] === 'after'), 'the send went to the new leader')
  t.ok(cluster.queues.get('jobs')!.messages.has(id))
})
