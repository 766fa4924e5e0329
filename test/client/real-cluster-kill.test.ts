// The SDK against a 3-node process cluster whose shard leader gets SIGKILL:
// pipelined sends either resolve exactly once (their message is there, once)
// or reject with a TroupeClientError; a consumer handles every message at
// least once across the kill; a leader frozen with SIGSTOP (it closes
// nothing) is left by the liveness check and sends go on with the new one.
import t from 'tap'
import { connect, TroupeClientError, type TroupeClient } from '../../src/client/index.js'
import { missingServer, planNodes, stop, type NodePlan } from './real-nodes.js'

const missing = missingServer()
const SENDS = 600
const WAVE = 50
const CONSUMED = 300

async function leaderOf(client: TroupeClient, queue: string, shardCount: number): Promise<number> {
  const { shardForQueue } = await import('../../src/cluster/placement.js')
  const shard = shardForQueue(queue, shardCount)
  for (let i = 0; i < 200; i++) {
    const map = await client.cluster()
    const leader = map.shards.find((s) => s.id === shard)?.leader ?? 0
    if (leader > 0 && map.shards.every((s) => s.leader > 0)) return leader
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`no leader for the shard of ${queue}`)
}

/** Every message of the queue, received and acked until the queue is empty (bounded). */
async function drain(client: TroupeClient, queue: string): Promise<{ id: string; body: unknown }[]> {
  const all: { id: string; body: unknown }[] = []
  for (let round = 0; round < 200; round++) {
    const messages = await client.queues.receive(queue, { max: 100, waitMs: 200, visibilityTimeoutMs: 60_000 })
    if (messages.length === 0 && (await client.queues.get(queue)).stats.total === 0) return all
    all.push(...messages.map((m) => ({ id: m.id, body: m.body })))
    if (messages.length > 0) await client.queues.ack(queue, messages.map((m) => m.receipt))
  }
  throw new Error(`${queue} did not drain`)
}

async function waitForAll(plan: NodePlan): Promise<string[]> {
  return Promise.all(plan.nodes.map((node) => node.tcp))
}

t.test('a shard leader killed under pipelined sends and a running consumer', { skip: missing }, async (t) => {
  const plan = await planNodes(3)
  t.teardown(() => plan.stopAll())
  for (const id of [1, 2, 3]) plan.start(id)
  const seeds = await waitForAll(plan)
  const client = await connect({ nodes: seeds, deadlineMs: 30_000, clientName: 'kill-test' })
  t.teardown(() => client.close())
  const shardCount = (await client.cluster()).shardCount

  await t.test('sends resolve exactly once or fail with a TroupeClientError', async (t) => {
    await client.queues.put('orders')
    const victim = await leaderOf(client, 'orders', shardCount)
    // Waves of sends without waiting for answers, so hundreds are in flight;
    // the leader dies after the third wave.
    const sends: Promise<string>[] = []
    let settled = 0
    let inFlightAtKill = 0
    for (let wave = 0; wave < SENDS / WAVE; wave++) {
      for (let i = wave * WAVE; i < (wave + 1) * WAVE; i++) sends.push(client.queues.send('orders', { n: i }).finally(() => settled++))
      if (wave === 2) {
        inFlightAtKill = sends.length - settled
        plan.nodes[victim - 1]!.child.kill('SIGKILL')
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const outcomes = await Promise.allSettled(sends)
    const resolvedIds = new Map<string, number>()
    let rejected = 0
    outcomes.forEach((outcome, n) => {
      if (outcome.status === 'fulfilled') resolvedIds.set(outcome.value, n)
      else {
        rejected++
        if (!(outcome.reason instanceof TroupeClientError)) t.fail(`send ${n} failed with something else: ${String(outcome.reason)}`)
      }
    })
    t.equal(resolvedIds.size + rejected, SENDS, 'every send settled, with distinct ids')
    t.ok(inFlightAtKill > 0, `the leader died with ${inFlightAtKill} sends in flight`)
    t.ok(resolvedIds.size > SENDS / 2, `most sends went through (${resolvedIds.size} resolved, ${rejected} rejected)`)

    const messages = await drain(client, 'orders')
    const bodies = messages.map((m) => (m.body as { n: number }).n)
    t.equal(new Set(bodies).size, bodies.length, 'no body twice: retries did not duplicate')
    const ids = new Set(messages.map((m) => m.id))
    const lost = [...resolvedIds.keys()].filter((id) => !ids.has(id))
    t.same(lost, [], 'every resolved send is in the queue')
    for (const m of messages) {
      const n = (m.body as { n: number }).n
      if (resolvedIds.has(m.id) && resolvedIds.get(m.id) !== n) t.fail(`id ${m.id} was answered to send ${resolvedIds.get(m.id)} but holds ${n}`)
    }

    // Bring the node back for the next part (its data directory is kept).
    await stop(plan.nodes[victim - 1]!, 'SIGKILL')
    plan.start(victim)
    await plan.nodes[victim - 1]!.tcp
  })

  await t.test('consume() handles every message at least once across a leader kill', async (t) => {
    await client.queues.put('work', { visibilityTimeoutMs: 2_000 })
    await client.queues.sendBatch('work', Array.from({ length: CONSUMED }, (_, n) => ({ body: n })))
    const victim = await leaderOf(client, 'work', shardCount)
    const handled = new Set<number>()
    const consumer = client.consume('work', async (message) => {
      await new Promise((resolve) => setTimeout(resolve, 25))
      handled.add(message.body as number)
    }, { concurrency: 8, waitMs: 500, nackBackoff: { initialMs: 10, maxMs: 100 } })
    for (let i = 0; i < 400 && handled.size < 50; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    t.ok(handled.size < CONSUMED / 2, `the leader died with work left (${handled.size} of ${CONSUMED} handled)`)
    await stop(plan.nodes[victim - 1]!, 'SIGKILL')
    for (let i = 0; i < 1200 && handled.size < CONSUMED; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    const stats = await consumer.stop()
    t.equal(handled.size, CONSUMED, `every message handled (stats ${JSON.stringify(stats)})`)
    t.ok(stats.processed >= CONSUMED - stats.errors, 'acks went through for nearly all')

    await stop(plan.nodes[victim - 1]!, 'SIGKILL')
    plan.start(victim)
    await plan.nodes[victim - 1]!.tcp
  })

  await t.test('a leader that hangs (SIGSTOP) is left by the liveness check; sends go on', async (t) => {
    const fast = await connect({ nodes: seeds, deadlineMs: 30_000, livenessTimeoutMs: 1_000, clientName: 'stop-test' })
    t.teardown(() => fast.close())
    await fast.queues.put('paused')
    const victim = await leaderOf(fast, 'paused', shardCount)
    const frozen = plan.nodes[victim - 1]!
    const sends: Promise<string>[] = []
    for (let i = 0; i < 100; i++) sends.push(fast.queues.send('paused', { n: i }))
    frozen.child.kill('SIGSTOP')
    try {
      for (let i = 100; i < 200; i++) sends.push(fast.queues.send('paused', { n: i }))
      const outcomes = await Promise.allSettled(sends)
      const ids = outcomes.filter((o): o is PromiseFulfilledResult<string> => o.status === 'fulfilled').map((o) => o.value)
      const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as unknown)
      t.ok(failures.every((e) => e instanceof TroupeClientError), 'failures are TroupeClientErrors')
      t.equal(ids.length, 200, `every send resolved while the old leader was frozen (${failures.length} failed)`)
    } finally {
      frozen.child.kill('SIGCONT')
    }
    const messages = await drain(fast, 'paused')
    const bodies = messages.map((m) => (m.body as { n: number }).n)
    t.equal(new Set(bodies).size, bodies.length, 'no duplicates')
    t.equal(bodies.length, 200, 'every send is in the queue')
  })
})
