// Nodes for in-process benchmarks: 1 node, or 3 nodes on loopback TCP, each
// in a fresh temporary directory that is removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode, type TroupeNode } from '../../src/index.js'
import { choiceOption, numberOption } from './report.js'

export interface BenchNodes {
  nodes: TroupeNode[]
  close(): Promise<void>
}

async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  for (const server of servers) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
  return ports
}

export async function startBenchNodes(
  count: 1 | 3,
  options: { sync: 'always' | 'none'; shards: number; threads: number; readOnly?: 'safe' | 'lease-based' },
): Promise<BenchNodes> {
  const dir = await mkdtemp(join(tmpdir(), 'troupe-bench-'))
  const logger = pino({ level: 'warn' })
  let nodes: TroupeNode[]
  if (count === 1) {
    nodes = [await startNode({ dataDir: join(dir, 'node-1'), logger, ...options })]
  } else {
    const ports = await freePorts(3)
    const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
    nodes = await Promise.all(
      [1, 2, 3].map((id) => startNode({ id, dataDir: join(dir, `node-${id}`), cluster, peer: `127.0.0.1:${ports[id - 1]}`, logger, ...options })),
    )
  }
  return {
    nodes,
    async close() {
      await Promise.all(nodes.map((node) => node.close()))
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface NodeBenchSettings {
  nodeCount: 1 | 3
  durationMs: number
  sync: 'always' | 'none'
  shards: number
  threads: number
}

/** The options the node benchmarks share: `--nodes 1|3 --seconds --sync --shards --threads`. */
export function nodeBenchSettings(options: Map<string, string | true>): NodeBenchSettings {
  return {
    nodeCount: choiceOption(options, 'nodes', ['1', '3'] as const, '1') === '3' ? 3 : 1,
    durationMs: numberOption(options, 'seconds', 3) * 1000,
    sync: choiceOption(options, 'sync', ['always', 'none'] as const, 'always'),
    shards: numberOption(options, 'shards', 8, true),
    threads: numberOption(options, 'threads', 1, true),
  }
}
