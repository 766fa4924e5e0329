// Real `troupe start` processes for the SDK's integration tests: one node or
// a 3-node cluster on free loopback ports, each reporting its client TCP
// address from its ready line.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts } from '../cli/helpers.js'

const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))
const clientServerModule = fileURLToPath(new URL('../../src/net/client-server.js', import.meta.url))

/** Why the integration tests cannot run here, or undefined when they can. */
export function missingServer(): string | undefined {
  return existsSync(clientServerModule) ? undefined : `the client protocol server (${clientServerModule}) is not built yet: the integration tests of the SDK need it`
}

export interface NodeProcess {
  id: number
  child: ChildProcess
  /** Client TCP address, from the ready line. */
  tcp: Promise<string>
  http: string
}

export interface NodePlan {
  dir: string
  nodes: NodeProcess[]
  start(id: number): NodeProcess
  stopAll(): Promise<void>
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'troupe-client-'))
}

/** Plans `count` nodes (1 or 3) in a fresh directory; `start(id)` launches node `id`. */
export async function planNodes(count: number, shards = 4): Promise<NodePlan> {
  const dir = await tempDir()
  const ports = await freePorts(count * 3)
  const peers = Array.from({ length: count }, (_, i) => `127.0.0.1:${ports[i * 3 + 2]}`)
  const cluster = count > 1 ? ['--cluster', peers.map((peer, i) => `${i + 1}=${peer}`).join(',')] : []
  const plan: NodePlan = {
    dir,
    nodes: [],
    start(id: number): NodeProcess {
      const http = `127.0.0.1:${ports[(id - 1) * 3]}`
      const listen = `127.0.0.1:${ports[(id - 1) * 3 + 1]}`
      const args = [bin, 'start', '--id', String(id), '--data', join(dir, `node-${id}`), '--http', http, '--listen', listen, '--peer', peers[id - 1]!, ...cluster, '--shards', String(shards), '--threads', '1']
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'error' } })
      const tcp = new Promise<string>((resolve, reject) => {
        let seen = ''
        child.stdout!.setEncoding('utf8')
        child.stdout!.on('data', (chunk: string) => {
          seen += chunk
          const match = new RegExp(`troupe node ${id} ready .*tcp=(\\S+)`).exec(seen)
          if (match) resolve(match[1]!)
        })
        child.once('exit', (code, signal) => reject(new Error(`node ${id} exited (${code ?? signal}) before it was ready`)))
      })
      tcp.catch(() => undefined)
      const node = { id, child, tcp, http }
      plan.nodes[id - 1] = node
      return node
    },
    async stopAll(): Promise<void> {
      await Promise.all(plan.nodes.map((node) => stop(node, 'SIGKILL')))
      await rm(dir, { recursive: true, force: true })
    },
  }
  return plan
}

export function isAlive(node: NodeProcess): boolean {
  return node.child.exitCode === null && node.child.signalCode === null
}

export function stop(node: NodeProcess, signal: NodeJS.Signals): Promise<void> {
  if (!isAlive(node)) return Promise.resolve()
  return new Promise((resolve) => {
    node.child.once('exit', () => resolve())
    node.child.kill(signal)
  })
}
