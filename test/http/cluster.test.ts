// The HTTP API of a 3-node cluster of real `troupe start` processes: every
// node lists all three with their HTTP, TCP and peer addresses, and a node
// that does not lead a shard serves its queue and KV requests by forwarding
// them to the leader, long-polls included (wake-up, and a client that leaves).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { shardForKey, shardForQueue } from '../../src/cluster/placement.js'
import { planThreeNodes, type NodeProcess } from '../cli/helpers.js'
import { call, errorOf, eventually, metricValue, undocumentedAnswers } from './helpers.js'

const SHARDS = 4
const dir = await mkdtemp(join(tmpdir(), 'troupe-http-cluster-'))
const plan = await planThreeNodes(dir)
const nodes = [1, 2, 3].map((id) => plan.start(id))
// What each node printed in its ready line: the addresses it serves on.
const readyLines = new Map<number, string>()
for (const node of nodes) {
  node.child.stdout!.on('data', (chunk: string) => {
    const line = chunk.split('\n').find((l) => l.startsWith(`troupe node ${node.id} ready`))
    if (line !== undefined) readyLines.set(node.id, line)
  })
}
t.teardown(async () => {
  await Promise.all(nodes.map(stopProcess))
  await rm(dir, { recursive: true, force: true })
})

async function stopProcess(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const exited = new Promise((resolve) => node.child.once('exit', resolve))
  node.child.kill('SIGTERM')
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

function base(node: NodeProcess): string {
  return `http://${node.http}`
}

function argOf(node: NodeProcess, flag: string): string {
  const args = node.child.spawnargs
  return args[args.indexOf(flag) + 1]!
}

interface ClusterView {
  node: number
  nodes: { id: number; peer: string; http: string | null; tcp: string | null; state: string }[]
  shards: { id: number; leader: number; term: number; commitIndex: number; members: number[] }[]
}

async function clusterView(node: NodeProcess): Promise<ClusterView> {
  const answer = await call(base(node), 'GET', '/v1/cluster')
  if (answer.status !== 200) throw new Error(`/v1/cluster answered ${answer.status} ${answer.text}`)
  return answer.json as ClusterView
}

function preferredLeader(shard: number): number {
  return [1, 2, 3][shard % 3]!
}

/**
 * The view once every shard is led by its preferred replica: the state leader
 * balancing returns to, so leadership does not move during a test.
 */
async function settledView(): Promise<ClusterView> {
  return eventually(
    async () => {
      const view = await clusterView(nodes[0]!)
      return view.shards.every((s) => s.leader === preferredLeader(s.id)) ? view : undefined
    },
    'every shard to be led by its preferred replica',
    30_000,
  )
}

/** A node that neither leads `shard` now nor is its preferred leader (so leader balancing does not move the lead onto it). */
function follower(view: ClusterView, shard: number): NodeProcess {
  const leader = view.shards.find((s) => s.id === shard)!.leader
  return nodes.find((n) => n.id !== leader && n.id !== preferredLeader(shard))!
}

function leaderOf(view: ClusterView, shard: number): NodeProcess {
  return nodes.find((n) => n.id === view.shards.find((s) => s.id === shard)!.leader)!
}

t.test('every node lists the three members with their http, tcp and peer addresses, and every shard has a leader', { timeout: 90_000 }, async (t) => {
  await Promise.all(nodes.map((n) => n.ready))
  for (const node of nodes) {
    const view = await eventually(
      async () => {
        const seen = await clusterView(node)
        const complete = seen.nodes.length === 3 && seen.nodes.every((m) => m.http !== null && m.tcp !== null && m.state === 'up') && seen.shards.every((s) => s.leader !== 0)
        return complete ? seen : undefined
      },
      `node ${node.id} to know every member's addresses and every shard's leader`,
      30_000,
    )
    t.equal(view.node, node.id)
    const expected = nodes.map((n) => ({
      id: n.id,
      peer: argOf(n, '--peer'),
      http: n.http,
      tcp: /tcp=(\S+)/.exec(readyLines.get(n.id) ?? '')?.[1] ?? 'missing ready line',
      state: 'up',
    }))
    t.same(
      [...view.nodes].sort((a, b) => a.id - b.id),
      expected,
      `node ${node.id}'s view of the members`,
    )
    t.equal(view.shards.length, SHARDS)
    for (const shard of view.shards) t.same([...shard.members].sort(), [1, 2, 3], `shard ${shard.id} has three members`)
  }
  const metrics = (await call(base(nodes[0]!), 'GET', '/metrics')).text
  t.equal(metricValue(metrics, 'troupe_peer_up', 'peer="2"'), 1)
  t.equal(metricValue(metrics, 'troupe_peer_up', 'peer="3"'), 1)
})

t.test('queue routes through a node that does not lead the shard', { timeout: 60_000 }, async (t) => {
  const queue = 'forwarded'
  const shard = shardForQueue(queue, SHARDS)
  const view = await settledView()
  const via = follower(view, shard)
  t.not(via.id, leaderOf(view, shard).id, `node ${via.id} does not lead shard ${shard}`)
  const at = base(via)

  t.equal((await call(at, 'PUT', `/v1/queues/${queue}`, { visibilityTimeoutMs: 600_000 })).status, 201)
  t.equal((await call(at, 'PUT', `/v1/queues/${queue}`, { visibilityTimeoutMs: 600_000 })).status, 200, 'an update answers 200')
  const sent = await call(at, 'POST', `/v1/queues/${queue}/messages`, { body: { n: 1 }, priority: 5 })
  t.equal(sent.status, 201)
  const batch = await call(at, 'POST', `/v1/queues/${queue}/messages`, { messages: [{ body: { n: 2 } }, { body: { n: 3 } }] })
  t.equal((batch.json as { ids: string[] }).ids.length, 2)
  t.match(((await call(at, 'GET', `/v1/queues/${queue}`)).json as { stats: unknown }).stats, { visible: 3, total: 3 })

  const received = await call(at, 'POST', `/v1/queues/${queue}/receive`, { max: 10 })
  const messages = (received.json as { messages: { id: string; receipt: string; body: { n: number } }[] }).messages
  t.same(
    messages.map((m) => m.body.n),
    [1, 2, 3],
    'priority first, then send order',
  )
  t.equal(messages[0]!.id, (sent.json as { id: string }).id)
  t.equal((await call(at, 'POST', `/v1/queues/${queue}/ack`, { receipt: messages[0]!.receipt })).status, 204)
  const missing = await call(at, 'POST', `/v1/queues/${queue}/ack`, { receipts: [messages[1]!.receipt, messages[0]!.receipt] })
  t.equal(missing.status, 404)
  t.same(errorOf(missing).missing, [messages[0]!.receipt], 'the batch ack names exactly the receipt already acked')
  t.equal((await call(at, 'POST', `/v1/queues/${queue}/nack`, { receipt: messages[2]!.receipt })).status, 204)
  t.match(((await call(at, 'GET', `/v1/queues/${queue}`)).json as { stats: unknown }).stats, { visible: 1, inFlight: 0, total: 1 })
  const listed = (await call(at, 'GET', '/v1/queues')).json as { queues: { name: string }[] }
  t.ok(listed.queues.some((q) => q.name === queue), 'the list asks every shard leader')

  const unknown = await call(at, 'POST', '/v1/queues/never-made/messages', { body: 1 })
  t.equal(errorOf(unknown).code, 'QUEUE_NOT_FOUND', 'errors come back through the forward unchanged')
  t.equal(unknown.status, 404)
})

t.test('a long-poll on a follower wakes when a message is sent through the leader', { timeout: 60_000 }, async (t) => {
  const queue = 'forwarded-wait'
  const shard = shardForQueue(queue, SHARDS)
  const view = await settledView()
  const via = follower(view, shard)
  const leader = leaderOf(view, shard)
  t.equal((await call(base(leader), 'PUT', `/v1/queues/${queue}`, {})).status, 201)
  const polling = call(base(via), 'POST', `/v1/queues/${queue}/receive`, { waitMs: 15_000 })
  await eventually(async () => (parkedOn(await scrape(leader), shard) === 1 ? true : undefined), 'the forwarded receive to park on the leader', 20_000)
  t.equal((await call(base(leader), 'POST', `/v1/queues/${queue}/messages`, { body: 'wake' })).status, 201)
  const answer = await polling
  t.equal(answer.status, 200)
  t.same(
    (answer.json as { messages: { body: unknown }[] }).messages.map((m) => m.body),
    ['wake'],
  )
})

t.test('a client that leaves a long-poll on a follower: the cancel reaches the leader and nothing sent afterwards is taken', { timeout: 60_000 }, async (t) => {
  const queue = 'forwarded-leaver'
  const shard = shardForQueue(queue, SHARDS)
  const view = await settledView()
  const via = follower(view, shard)
  const leader = leaderOf(view, shard)
  t.equal((await call(base(leader), 'PUT', `/v1/queues/${queue}`, { visibilityTimeoutMs: 600_000 })).status, 201)
  const leaving = new AbortController()
  const polling = fetch(`${base(via)}/v1/queues/${queue}/receive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ waitMs: 20_000 }),
    signal: leaving.signal,
  }).catch(() => undefined)
  await eventually(async () => (parkedOn(await scrape(leader), shard) === 1 ? true : undefined), 'the forwarded receive to park on the leader', 20_000)
  leaving.abort()
  await polling
  await eventually(async () => (parkedOn(await scrape(leader), shard) === 0 ? true : undefined), 'the cancel to reach the leader', 10_000)
  t.equal((await call(base(via), 'POST', `/v1/queues/${queue}/messages`, { body: 'kept' })).status, 201)
  t.match(((await call(base(via), 'GET', `/v1/queues/${queue}`)).json as { stats: unknown }).stats, { visible: 1, inFlight: 0, receivedTotal: 0 })
})

t.test('KV routes through a node that does not lead the key', { timeout: 60_000 }, async (t) => {
  const key = 'config/forwarded'
  const shard = shardForKey(key, SHARDS)
  const view = await settledView()
  const via = follower(view, shard)
  const at = base(via)
  const path = `/v1/kv/${encodeURIComponent(key)}`

  const put = await call(at, 'PUT', path, 'first')
  t.equal(put.status, 200)
  const version = (put.json as { version: number }).version
  const got = await call(at, 'GET', path)
  t.equal(got.status, 200)
  t.equal(got.text, 'first')
  t.equal(got.headers.get('x-version'), String(version))
  const conflict = await call(at, 'PUT', `${path}?ifVersion=${version + 7}`, 'nope')
  t.equal(conflict.status, 409)
  t.equal((await call(at, 'PUT', `${path}?ifVersion=${version}`, 'second')).status, 200)
  t.equal((await call(at, 'GET', path)).text, 'second', 'a linearizable read through the follower sees the last write')
  const stale = await eventually(async () => {
    const answer = await call(at, 'GET', `${path}?consistency=stale`)
    return answer.text === 'second' ? answer : undefined
  }, 'the follower to apply the write')
  t.equal(stale.status, 200)
  t.equal((await call(at, 'DELETE', path)).status, 204)
  t.equal((await call(at, 'GET', path)).status, 404)
  t.equal((await call(at, 'DELETE', path)).status, 404)
})

t.test('every answer the nodes gave is documented in the OpenAPI document', async (t) => {
  for (const node of nodes) t.same(await undocumentedAnswers(base(node)), [], `node ${node.id}`)
})

// Last: it kills and restarts a node.
t.test('a long-poll parked on a leader that hands leadership back is answered then, not at the end of its wait', { timeout: 120_000 }, async (t) => {
  const queue = 'moving-leader'
  const shard = shardForQueue(queue, SHARDS)
  const preferred = nodes.find((n) => n.id === preferredLeader(shard))!
  const others = nodes.filter((n) => n !== preferred)
  await settledView()
  preferred.child.kill('SIGKILL')
  await new Promise((resolve) => preferred.child.once('exit', resolve))
  const interim = await eventually(
    async () => {
      const leader = (await clusterView(others[0]!)).shards.find((s) => s.id === shard)!.leader
      return others.find((n) => n.id === leader)
    },
    'another node to take the lead',
    30_000,
  )
  t.equal((await call(base(interim), 'PUT', `/v1/queues/${queue}`, {})).status, 201)
  let answered = false
  const polling = call(base(interim), 'POST', `/v1/queues/${queue}/receive`, { waitMs: 20_000 }).finally(() => (answered = true))
  await eventually(async () => (parkedOn(await scrape(interim), shard) === 1 ? true : undefined), 'the receive to park', 10_000)
  const restarted = plan.start(preferred.id)
  nodes[nodes.indexOf(preferred)] = restarted
  await restarted.ready
  await eventually(async () => ((await clusterView(interim)).shards.find((s) => s.id === shard)!.leader === restarted.id ? true : undefined), 'leadership to return', 30_000)
  // A deposed leader applies sends without waking its parked receives: they must have been answered when it stepped down.
  t.equal(parkedOn(await scrape(interim), shard), 0, 'nothing stays parked on the deposed leader')
  await eventually(async () => (answered ? true : undefined), 'the long-poll to be answered', 5_000)
  const answer = await polling
  t.equal(answer.status, 200)
  t.same((answer.json as { messages: unknown[] }).messages, [])
  t.equal((await call(base(interim), 'POST', `/v1/queues/${queue}/messages`, { body: 'after the move' })).status, 201)
  const next = await call(base(interim), 'POST', `/v1/queues/${queue}/receive`, { waitMs: 5_000 })
  t.same(
    (next.json as { messages: { body: unknown }[] }).messages.map((m) => m.body),
    ['after the move'],
  )
})

async function scrape(node: NodeProcess): Promise<string> {
  return (await call(base(node), 'GET', '/metrics')).text
}

function parkedOn(metrics: string, shard: number): number | undefined {
  return metricValue(metrics, 'troupe_shard_parked_receives', `shard="${shard}"`)
}
