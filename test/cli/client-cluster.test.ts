// The client commands against three real `troupe start` processes: given one
// seed, they reach the leader of any shard; status reports every node and the
// followers' lag; after SIGKILL of a shard's leader, a send given all seeds
// retries until a new leader takes it, and `node remove` drops the killed node.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { shardForKey, shardForQueue } from '../../src/cluster/placement.js'
import { freePorts } from './helpers.js'
import { runCli, startNode, type CliResult, type StartedNode } from './client-process.js'

t.setTimeout(300_000)

const SHARDS = 4
const dir = await mkdtemp(join(tmpdir(), 'troupe-cli-cluster-'))
const ports = await freePorts(9)
const members = [1, 2, 3].map((id) => `${id}=127.0.0.1:${ports[3 * (id - 1) + 2]}`).join(',')
const nodes: StartedNode[] = await Promise.all(
  [1, 2, 3].map((id) => startNode(dir, { id, ports: ports.slice(3 * (id - 1), 3 * id), extraArgs: ['--cluster', members] })),
)
t.teardown(async () => {
  await Promise.all(nodes.map((node) => node.stop()))
  await rm(dir, { recursive: true, force: true })
})

interface ShardView {
  id: number
  leader: number
  lag: number | null
  members: number[]
}

function json<T>(result: CliResult): T {
  return JSON.parse(result.stdout) as T
}

/** Every shard's leader as node `via` sees it over HTTP; polled (bounded) until all shards have one. */
async function leadersVia(via: StartedNode): Promise<number[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const response = await fetch(`http://${via.http}/v1/cluster`, { signal: AbortSignal.timeout(5_000) })
      const view = (await response.json()) as { shards: { id: number; leader: number }[] }
      const leaders = view.shards.sort((a, b) => a.id - b.id).map((shard) => shard.leader)
      if (leaders.length === SHARDS && leaders.every((leader) => leader > 0)) return leaders
    } catch {
      // Not serving yet: asked again below.
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`node ${via.tcp} never saw a leader for every shard`)
}

/** A name, built from `prefix`, that `shardOf` places in a shard whose leader is not `avoid`. */
function nameLedByAnother(prefix: string, leaders: number[], avoid: number, shardOf: (name: string, count: number) => number): string {
  for (let i = 0; i < 1000; i++) {
    const name = `${prefix}-${i}`
    if (leaders[shardOf(name, SHARDS)] !== avoid) return name
  }
  throw new Error(`every shard is led by node ${avoid}`)
}

t.test('one seed is enough to reach the leader of any shard; status shows the lag', async (t) => {
  const leaders = await leadersVia(nodes[2]!)
  const seed = { TROUPE_NODES: nodes[2]!.tcp }
  const queue = nameLedByAnother('orders', leaders, 3, shardForQueue)
  const key = nameLedByAnother('config', leaders, 3, shardForKey)

  const created = await runCli(['queue', 'create', queue], { env: seed })
  t.equal(created.code, 0, created.stderr)
  const sent = await runCli(['queue', 'send', queue, 'before the kill', '--json'], { env: seed })
  t.equal(sent.code, 0, sent.stderr)
  const put = await runCli(['kv', 'put', key, 'v1'], { env: seed })
  t.equal(put.code, 0, put.stderr)
  t.equal((await runCli(['kv', 'get', key], { env: seed })).stdout, 'v1')

  const status = await runCli(['status', '--json'], { env: seed })
  t.equal(status.code, 0, status.stderr)
  const map = json<{ nodes: { id: number; tcp: string }[]; shards: ShardView[] }>(status)
  t.same(map.nodes.map((node) => node.id).sort(), [1, 2, 3])
  t.same(map.nodes.find((node) => node.id === 3)?.tcp, nodes[2]!.tcp)
  t.equal(map.shards.length, SHARDS)
  for (const shard of map.shards) {
    t.ok(shard.leader > 0, `shard ${shard.id} has a leader`)
    t.same(shard.members, [1, 2, 3])
    t.ok(typeof shard.lag === 'number' && shard.lag >= 0, `shard ${shard.id} lag ${shard.lag}: every member answered`)
  }

  t.test('after SIGKILL of the queue’s leader, a send given every seed retries until a new leader takes it', async (t) => {
    const victim = nodes[leaders[shardForQueue(queue, SHARDS)]! - 1]!
    victim.child.kill('SIGKILL')
    await victim.stop()
    const allSeeds = { TROUPE_NODES: nodes.map((node) => node.tcp).join(',') }
    const after = await runCli(['queue', 'send', queue, 'after the kill', '--timeout-ms', '30000'], { env: allSeeds })
    t.equal(after.code, 0, after.stderr)
    const received = await runCli(['queue', 'receive', queue, '--max', '10', '--json', '--timeout-ms', '30000'], { env: allSeeds })
    t.equal(received.code, 0, received.stderr)
    const bodies = json<{ messages: { body: string }[] }>(received).messages.map((message) => message.body)
    t.same(bodies.sort(), ['after the kill', 'before the kill'], 'both messages, once each')

    // The killed node's machine is lost: `troupe node remove` drops it for good.
    const victimId = nodes.indexOf(victim) + 1
    const survivorIds = [1, 2, 3].filter((id) => id !== victimId)
    const survivors = nodes.filter((node) => node !== victim)
    const survivorSeeds = { TROUPE_NODES: survivors.map((node) => node.tcp).join(',') }
    const removed = await runCli(['node', 'remove', String(victimId), '--json', '--timeout-ms', '30000'], { env: survivorSeeds })
    t.equal(removed.code, 0, removed.stderr)
    t.same(json(removed), { removed: victimId })
    let view: { nodes: { id: number }[]; shards: ShardView[] } | undefined
    for (let attempt = 0; attempt < 100; attempt++) {
      const status = await runCli(['status', '--json'], { env: survivorSeeds })
      if (status.code === 0) {
        const current = json<{ nodes: { id: number }[]; shards: ShardView[] }>(status)
        view = current
        if (current.shards.every((shard) => shard.leader > 0 && !shard.members.includes(victimId))) break
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    t.same(view?.nodes.map((node) => node.id).sort(), survivorIds, 'the removed node is not listed')
    t.ok(view?.shards.every((shard) => !shard.members.includes(victimId)), 'no shard has it as a member')
  })
})
