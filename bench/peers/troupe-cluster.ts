// Three Troupe nodes as real processes (`node dist/src/cli/troupe.js start`)
// on loopback, `--sync always`, each in its own data directory; ready when
// each has printed `troupe node <id> ready` and answers GET /ready.
import http from 'node:http'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts } from './free-ports.js'
import { launch, stopAll, type ManagedProcess } from './process-launcher.js'
import { retry, SETUP_RETRY } from './retry.js'

export interface TroupeNodeAddresses {
  id: number
  http: string
  tcp: string
  peer: string
}

export interface RunningTroupeCluster {
  nodes: TroupeNodeAddresses[]
  stop(): Promise<void>
}

export const TROUPE_CLI = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))
const READY_TIMEOUT_MS = 60_000
const READY_LINE = /^troupe node \d+ ready /

/** The `start` arguments of node `id` (pure: the tests check them). */
export function troupeStartArgs(node: TroupeNodeAddresses, nodes: TroupeNodeAddresses[], dataDir: string): string[] {
  const cluster = nodes.map((n) => `${n.id}=${n.peer}`).join(',')
  return ['start', '--id', String(node.id), '--data', dataDir, '--http', node.http, '--listen', node.tcp, '--peer', node.peer, '--cluster', cluster, '--sync', 'always']
}

function httpStatus(address: string, path: string): Promise<number> {
  const at = address.lastIndexOf(':')
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address.slice(0, at), port: Number(address.slice(at + 1)), path, timeout: 5000, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)))
    req.on('error', reject)
  })
}

export async function startTroupeCluster(dataDir: string, nodeCount: number): Promise<RunningTroupeCluster> {
  const ports = await freePorts(nodeCount * 3)
  const nodes: TroupeNodeAddresses[] = Array.from({ length: nodeCount }, (_, i) => ({
    id: i + 1,
    http: `127.0.0.1:${ports[i * 3]}`,
    tcp: `127.0.0.1:${ports[i * 3 + 1]}`,
    peer: `127.0.0.1:${ports[i * 3 + 2]}`,
  }))
  const processes: ManagedProcess[] = []
  const stop = () => stopAll(processes)
  try {
    for (const node of nodes) {
      const dir = join(dataDir, `troupe-${node.id}`)
      await mkdir(dir, { recursive: true })
      processes.push(
        launch({
          name: `troupe-${node.id}`,
          command: process.execPath,
          args: [TROUPE_CLI, ...troupeStartArgs(node, nodes, dir)],
          env: { ...process.env, LOG_LEVEL: 'warn' },
          readyLine: READY_LINE,
          readyTimeoutMs: READY_TIMEOUT_MS,
        }),
      )
    }
    for (const managed of processes) await managed.ready()
    for (const node of nodes) {
      await retry(`troupe node ${node.id}: GET /ready`, SETUP_RETRY, async () => {
        const status = await httpStatus(node.http, '/ready')
        if (status !== 200) throw new Error(`GET /ready answered ${status}`)
      })
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { nodes, stop }
}
