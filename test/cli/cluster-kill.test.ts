// Three real `troupe start` processes on loopback. Writers send through all
// three over HTTP; the node leading most shards gets SIGKILL. Writes go on
// through the survivors, the killed node restarts and catches up, and no
// acknowledged message is lost.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { busiestLeader, planThreeNodes } from './helpers.js'

const dir = await mkdtemp(join(tmpdir(), 'troupe-kill-'))
const plan = await planThreeNodes(dir)
const startProcess = (id: number) => plan.start(id)

async function request(http: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`http://${http}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined }
}

const nodes = [1, 2, 3].map(startProcess)
t.teardown(async () => {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

t.test('SIGKILL of the node leading most shards loses no acknowledged send', { timeout: 240_000 }, async (t) => {
  await Promise.all(nodes.map((n) => n.ready))
  t.equal((await request(nodes[0]!.http, 'PUT', '/v1/queues/orders', {})).status, 201)

  const acked = new Set<string>()
  let ackedSinceKill = 0
  let killedAt = 0
  let stop = false
  let next = 0
  const writers = Array.from({ length: 8 }, async (_, w) => {
    while (!stop) {
      const target = nodes[(w + next++) % 3]!
      if (target.child.exitCode !== null || target.child.signalCode !== null) continue
      try {
        const { status, json } = await request(target.http, 'POST', '/v1/queues/orders/messages', { body: { w, n: next } })
        if (status === 201) {
          acked.add((json as { id: string }).id)
          if (killedAt > 0) ackedSinceKill++
        }
      } catch {
        // A refused or dropped connection: the outcome is unknown, nothing is counted.
      }
    }
  })
  while (acked.size < 200) await new Promise((resolve) => setTimeout(resolve, 50))

  const { id: victimId, shardsLed } = await busiestLeader(nodes[0]!)
  const victim = nodes[victimId - 1]!
  victim.child.kill('SIGKILL')
  killedAt = Date.now()
  await new Promise((resolve) => victim.child.once('exit', resolve))
  t.pass(`killed node ${victimId}, which led ${shardsLed} of 4 shards, after ${acked.size} acknowledged sends`)

  const resumeDeadline = Date.now() + 30_000
  while (ackedSinceKill < 100 && Date.now() < resumeDeadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.ok(ackedSinceKill >= 100, `writes went on through the survivors (${ackedSinceKill} acknowledged within ${Date.now() - killedAt} ms of the kill)`)

  const restarted = startProcess(victimId)
  nodes[victimId - 1] = restarted
  await restarted.ready
  stop = true
  await Promise.all(writers)

  const received = new Set<string>()
  for (;;) {
    const { status, json } = await request(nodes[0]!.http, 'POST', '/v1/queues/orders/receive', { max: 100, visibilityTimeoutMs: 600_000 })
    t.equal(status, 200)
    const messages = (json as { messages: { id: string }[] }).messages
    if (messages.length === 0) break
    for (const m of messages) received.add(m.id)
  }
  const lost = [...acked].filter((id) => !received.has(id))
  t.same(lost, [], `all ${acked.size} acknowledged sends are there`)

  // The restarted node serves too (forwarding to the current leaders).
  const { status, json } = await request(restarted.http, 'GET', '/v1/queues/orders')
  t.equal(status, 200)
  t.equal((json as { stats: { total: number } }).stats.total, received.size)
})
