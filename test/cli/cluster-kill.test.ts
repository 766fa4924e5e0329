// Three real `troupe start` processes on loopback. Writers send through all
// three over HTTP; the node leading most shards gets SIGKILL. Writes go on
// through the survivors, the killed node restarts and catches up, and no
// acknowledged message is lost.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// bin/troupe only imports this file; the test runner's process hooks cannot
// load an extension-less ES module, so the test starts the compiled entry.
const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))

/** Distinct free ports: all are held open until every one is chosen. */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  for (const server of servers) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
  return ports
}

interface NodeProcess {
  id: number
  http: string
  child: ChildProcess
  ready: Promise<void>
}

const dir = await mkdtemp(join(tmpdir(), 'troupe-kill-'))
const ports = await freePorts(6)
const peers = [1, 2, 3].map((id) => `127.0.0.1:${ports[id + 2]}`)
const cluster = peers.map((peer, i) => `${i + 1}=${peer}`).join(',')

function startProcess(id: number): NodeProcess {
  const http = `127.0.0.1:${ports[id - 1]}`
  const child = spawn(
    process.execPath,
    [bin, 'start', '--id', String(id), '--data', join(dir, `node-${id}`), '--http', http, '--peer', peers[id - 1]!, '--cluster', cluster, '--shards', '4', '--threads', '1'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'error' } },
  )
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      if (chunk.includes(`troupe node ${id} ready`)) resolve()
    })
    child.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before it was ready`)))
  })
  return { id, http, child, ready }
}

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

  const { json: clusterView } = await request(nodes[0]!.http, 'GET', '/v1/cluster')
  const leaders = (clusterView as { shards: { leader: number }[] }).shards.map((s) => s.leader)
  const victimId = [1, 2, 3].sort((a, b) => leaders.filter((l) => l === b).length - leaders.filter((l) => l === a).length)[0]!
  const victim = nodes[victimId - 1]!
  victim.child.kill('SIGKILL')
  killedAt = Date.now()
  await new Promise((resolve) => victim.child.once('exit', resolve))
  t.pass(`killed node ${victimId}, which led ${leaders.filter((l) => l === victimId).length} of 4 shards, after ${acked.size} acknowledged sends`)

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
