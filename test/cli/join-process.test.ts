// `troupe start --join` with real processes: a single node started with no
// member list takes two more by join; the first one gets SIGKILL, the two
// that joined keep taking writes, and the first comes back with its plain
// single-node command line, knowing every member from its data directory. A
// fourth node is refused and exits with the reason. Then the third is lost
// (SIGKILL), removed over HTTP, and a fourth node joins in its place; the
// third, started again from its data directory, is refused.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePorts } from './helpers.js'

const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'troupe-join-process-'))
const ports = await freePorts(12)
const http = (id: number) => `127.0.0.1:${ports[3 * (id - 1)]}`
const peer = (id: number) => `127.0.0.1:${ports[3 * (id - 1) + 2]}`
const children: ChildProcess[] = []

interface Started {
  child: ChildProcess
  ready: Promise<void>
  exited: Promise<{ code: number | null; stderr: string }>
}

function start(id: number, extra: string[] = []): Started {
  const args = [bin, 'start', '--id', String(id), '--data', join(dir, `node-${id}`), '--http', http(id), '--listen', `127.0.0.1:${ports[3 * (id - 1) + 1]}`]
  args.push('--peer', peer(id), '--shards', '2', '--threads', '1', '--sync', 'always', ...extra)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error', TROUPE_CLUSTER_SECRET: 'join-process' } })
  children.push(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes(`troupe node ${id} ready`)) resolve()
    })
    void exited.then(({ code }) => reject(new Error(`node ${id} exited with ${code} before it was ready: ${stderr.slice(-500)}`)))
  })
  return { child, ready, exited }
}

t.teardown(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

async function api(id: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`http://${http(id)}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined }
}

async function votersEverywhere(id: number, voters: number[]): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const view = (await api(id, 'GET', '/v1/cluster')).json as { shards: { leader: number; members: number[] }[] }
    if (view.shards.every((s) => s.leader > 0 && [...s.members].sort().join() === voters.join())) return
    if (Date.now() > deadline) throw new Error(`node ${id}: voters are not ${voters.join(',')}: ${JSON.stringify(view.shards)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.test('a single node grows to three by --join, loses the first to SIGKILL and gets it back, then replaces the third', async (t) => {
  const first = start(1)
  await first.ready
  t.equal((await api(1, 'PUT', '/v1/queues/jobs')).status, 201)
  for (let i = 0; i < 20; i++) t.equal((await api(1, 'POST', '/v1/queues/jobs/messages', { body: { i } })).status, 201)

  const second = start(2, ['--join', peer(1)])
  await second.ready
  const third = start(3, ['--join', peer(2)])
  await third.ready
  for (const id of [1, 2, 3]) await votersEverywhere(id, [1, 2, 3])
  const view = (await api(3, 'GET', '/v1/cluster')).json as { nodes: { id: number; state: string }[] }
  t.same(view.nodes.map((n) => n.id).sort(), [1, 2, 3], '/v1/cluster on a node that joined lists every member')

  const refused = start(4, ['--join', peer(1)])
  refused.ready.catch(() => undefined) // it is meant never to be ready
  const outcome = await refused.exited
  t.not(outcome.code, 0, 'a fourth node exits with an error')
  t.match(outcome.stderr, /at most 3/)

  first.child.kill('SIGKILL')
  await first.exited
  for (let i = 20; i < 30; i++) t.equal((await api(2, 'POST', '/v1/queues/jobs/messages', { body: { i } })).status, 201, `send ${i} through node 2 while node 1 is down`)

  // The same command line as the first start: no member list.
  const back = start(1)
  await back.ready
  await votersEverywhere(1, [1, 2, 3])
  const stats = (await api(1, 'GET', '/v1/queues/jobs')).json as { stats: { visible: number } }
  t.equal(stats.stats.visible, 30, 'every acknowledged send, read through the restarted node')

  // Node 3's machine is lost: it is removed through node 2, and node 4 joins in its place.
  third.child.kill('SIGKILL')
  await third.exited
  const removal = await api(2, 'DELETE', '/v1/cluster/nodes/3')
  t.equal(removal.status, 200)
  t.same(removal.json, { removed: 3 })
  for (const id of [1, 2]) await votersEverywhere(id, [1, 2])
  const fourth = start(4, ['--join', peer(2)])
  await fourth.ready
  for (const id of [1, 2, 4]) await votersEverywhere(id, [1, 2, 4])
  const seen = (await api(4, 'GET', '/v1/queues/jobs')).json as { stats: { visible: number } }
  t.equal(seen.stats.visible, 30, 'every message, read through the node that took the place of the lost one')
  const members = (await api(1, 'GET', '/v1/cluster')).json as { nodes: { id: number }[] }
  t.same(members.nodes.map((n) => n.id).sort(), [1, 2, 4])
  // The lost node's machine comes back with its old data directory: the members refuse it, and it exits with the reason.
  const stale = start(3, ['--join', peer(2)])
  stale.ready.catch(() => undefined) // it is meant never to be ready
  const staleOutcome = await stale.exited
  t.equal(staleOutcome.code, 1)
  t.match(staleOutcome.stderr, /node 3 was removed from this cluster/)
  for (const started of [back, second, fourth]) started.child.kill('SIGTERM')
  for (const started of [back, second, fourth]) t.equal((await started.exited).code, 0)
})
