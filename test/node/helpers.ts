// Shared helpers of the node tests: a node on a fresh data directory.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { startNode, type NodeOptions } from '../../src/index.js'
import type { TroupeNode } from '../../src/node/troupe-node.js'

export async function tempDir(prefix = 'troupe-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

export function startTestNode(dataDir: string, options: NodeOptions = {}): Promise<TroupeNode> {
  return startNode({ dataDir, shards: 4, threads: 1, logger: pino({ level: process.env['LOG_LEVEL'] ?? 'silent' }), ...options })
}

export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The error a start-up that must fail failed with. */
export async function refusal(starting: Promise<TroupeNode>): Promise<{ code?: string; message: string }> {
  const outcome = await starting.then(
    (node) => node,
    (error: unknown) => error as { code?: string; message: string },
  )
  if ('close' in outcome) {
    await outcome.close()
    throw new Error(`node ${outcome.id} started, but it should have been refused`)
  }
  return outcome
}

/** Every shard, seen from `node`, has exactly these voters, no learner, and a leader. */
export async function membersSettle(node: TroupeNode, voters: number[]): Promise<void> {
  await eventually(
    async () => {
      const status = await node.status()
      const settled = status.shards.every((s) => s.leader > 0 && s.learners.length === 0 && [...s.members].sort().join() === voters.join())
      return settled ? true : undefined
    },
    20_000,
    `voters ${voters.join(',')} on node ${node.id}`,
  )
}
