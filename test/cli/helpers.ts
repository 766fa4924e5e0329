// Real `troupe start` processes on loopback for the CLI-level tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// bin/troupe only imports this file; the test runner's process hooks cannot
// load an extension-less ES module, so the tests start the compiled entry.
const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))

/** Distinct free ports: all are held open until every one is chosen. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  for (const server of servers) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
  return ports
}

export interface NodeProcess {
  id: number
  http: string
  child: ChildProcess
  ready: Promise<void>
}

export interface ThreeNodes {
  dir: string
  nodes: NodeProcess[]
  start(id: number): NodeProcess
}

/** Plans a 3-node cluster in `dir` on free ports; `start(id)` launches node `id`. */
export async function planThreeNodes(dir: string, extraArgs: string[] = []): Promise<ThreeNodes> {
  const ports = await freePorts(6)
  const peers = [1, 2, 3].map((id) => `127.0.0.1:${ports[id + 2]}`)
  const cluster = peers.map((peer, i) => `${i + 1}=${peer}`).join(',')
  const plan: ThreeNodes = {
    dir,
    nodes: [],
    start(id: number): NodeProcess {
      const http = `127.0.0.1:${ports[id - 1]}`
      const args = [bin, 'start', '--id', String(id), '--data', join(dir, `node-${id}`), '--http', http, '--listen', '127.0.0.1:0', '--peer', peers[id - 1]!, '--cluster', cluster, '--shards', '4', '--threads', '1', ...extraArgs]
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'error' } })
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout!.setEncoding('utf8')
        child.stdout!.on('data', (chunk: string) => {
          if (chunk.includes(`troupe node ${id} ready`)) resolve()
        })
        child.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before it was ready`)))
      })
      const node = { id, http, child, ready }
      plan.nodes[id - 1] = node
      return node
    },
  }
  return plan
}

export function isAlive(node: NodeProcess): boolean {
  return node.child.exitCode === null && node.child.signalCode === null
}

/** The node that leads the most shards, from `/v1/cluster` on `via`. */
export async function busiestLeader(via: NodeProcess): Promise<{ id: number; shardsLed: number }> {
  const response = await fetch(`http://${via.http}/v1/cluster`, { signal: AbortSignal.timeout(10_000) })
  const view = (await response.json()) as { shards: { leader: number }[] }
  const leaders = view.shards.map((s) => s.leader)
  const id = [1, 2, 3].sort((a, b) => leaders.filter((l) => l === b).length - leaders.filter((l) => l === a).length)[0]!
  return { id, shardsLed: leaders.filter((l) => l === id).length }
}
