// Real node processes for the load benches: `troupe start` for 1 node or a
// 3-node cluster on loopback, free ports, a temporary data directory per
// node (removed by stop()). A node is ready once it printed its ready line
// and its GET /ready answers 200 (every shard has a leader).
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LoadError } from './load-error.js'

export interface LocalClusterOptions {
  count: 1 | 3
  sync: 'always' | 'none'
  shards?: number
  threads?: number
  /** `--reads`: how the nodes serve linearizable reads. Default: the node's (safe). */
  reads?: 'safe' | 'lease-based'
  /** pino level of the nodes' logs (kept in memory, shown when a node fails). */
  logLevel?: string
  readyTimeoutMs?: number
}

export interface LocalNode {
  id: number
  http: string
  tcp: string
  peer: string
  dataDir: string
}

const DEFAULT_READY_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 10_000
const STDERR_LINES_KEPT = 40
const troupeEntry = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))

/** Distinct free loopback ports: all are held open until every one is chosen. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  for (const server of servers) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
  return ports
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

interface Running {
  child: ChildProcess
  stderrTail: string[]
  exited: Promise<void>
}

export class LocalCluster {
  private readonly running = new Map<number, Running>()
  /** Nodes that exited without being told to (kill or stop). */
  readonly unexpectedExits: { id: number; code: number | null; signal: string | null }[] = []

  /** If the bench process exits without stop() (a crash), no node outlives it. */
  private readonly onProcessExit = () => {
    for (const running of this.running.values()) running.child.kill('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }

  private constructor(
    readonly nodes: LocalNode[],
    private readonly dir: string,
    private readonly args: string[],
    private readonly options: LocalClusterOptions,
  ) {
    process.once('exit', this.onProcessExit)
  }

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-load-'))
    const ports = await freePorts(options.count * 3)
    const nodes: LocalNode[] = Array.from({ length: options.count }, (_, i) => ({
      id: i + 1,
      http: `127.0.0.1:${ports[3 * i]}`,
      tcp: `127.0.0.1:${ports[3 * i + 1]}`,
      peer: `127.0.0.1:${ports[3 * i + 2]}`,
      dataDir: join(dir, `node-${i + 1}`),
    }))
    const args = ['--sync', options.sync]
    if (options.shards !== undefined) args.push('--shards', String(options.shards))
    if (options.threads !== undefined) args.push('--threads', String(options.threads))
    if (options.reads !== undefined) args.push('--reads', options.reads)
    if (options.count > 1) args.push('--cluster', nodes.map((n) => `${n.id}=${n.peer}`).join(','))
    const cluster = new LocalCluster(nodes, dir, args, options)
    try {
      await Promise.all(nodes.map((node) => cluster.launch(node.id)))
      await cluster.waitUntilReady()
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  node(id: number): LocalNode {
    const node = this.nodes[id - 1]
    if (node === undefined) throw new LoadError('NODE_PROCESS', `no node ${id}`)
    return node
  }

  isRunning(id: number): boolean {
    return this.running.has(id)
  }

  pid(id: number): number | undefined {
    return this.running.get(id)?.child.pid
  }

  /** Sends `signal` to node `id` and waits until the process has exited. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const running = this.running.get(id)
    if (running === undefined) return
    this.running.delete(id)
    running.child.kill(signal)
    await running.exited
  }

  /** Starts node `id` again on its data directory and waits until it printed its ready line. */
  async restart(id: number): Promise<void> {
    if (this.running.has(id)) throw new LoadError('NODE_PROCESS', `node ${id} is still running`)
    await this.launch(id)
  }

  /** Waits until every running node answers GET /ready with 200. */
  async waitUntilReady(timeoutMs = this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs
    for (const node of this.nodes) {
      if (!this.running.has(node.id)) continue
      for (;;) {
        try {
          const response = await fetch(`http://${node.http}/ready`, { signal: AbortSignal.timeout(2_000) })
          await response.arrayBuffer()
          if (response.status === 200) break
        } catch {
          // Not listening yet, or busy electing: ask again.
        }
        if (performance.now() > deadline) throw new LoadError('NODE_PROCESS', `node ${node.id} was not ready within ${timeoutMs} ms`)
        await sleep(200)
      }
    }
  }

  /** SIGTERM to every node, SIGKILL to any still running after 10 s; then the data is removed. */
  async stop(): Promise<void> {
    const stopping = [...this.running.entries()].map(async ([id, running]) => {
      this.running.delete(id)
      running.child.kill('SIGTERM')
      const killer = setTimeout(() => running.child.kill('SIGKILL'), STOP_GRACE_MS)
      await running.exited
      clearTimeout(killer)
    })
    await Promise.all(stopping)
    await rm(this.dir, { recursive: true, force: true })
    process.removeListener('exit', this.onProcessExit)
  }

  private launch(id: number): Promise<void> {
    const node = this.node(id)
    const args = [troupeEntry, 'start', '--id', String(id), '--data', node.dataDir, '--http', node.http, '--listen', node.tcp, '--peer', node.peer, ...this.args]
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: this.options.logLevel ?? 'warn' },
    })
    const stderrTail: string[] = []
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line) stderrTail.push(line)
      stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_LINES_KEPT))
    })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const running: Running = { child, stderrTail, exited }
    this.running.set(id, running)
    child.once('exit', (code, signal) => {
      if (this.running.get(id) === running) {
        this.running.delete(id)
        this.unexpectedExits.push({ id, code, signal })
      }
    })
    const timeoutMs = this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS
    return new Promise<void>((resolve, reject) => {
      let stdout = ''
      const timer = setTimeout(() => reject(this.failure(id, running, `did not print its ready line within ${timeoutMs} ms`)), timeoutMs)
      child.stdout!.setEncoding('utf8')
      child.stdout!.on('data', (chunk: string) => {
        // Only the start of stdout matters; stop collecting once the line is there.
        if (stdout.length > 64 * 1024) return
        stdout += chunk
        if (stdout.includes(`troupe node ${id} ready`)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(this.failure(id, running, `exited (${signal ?? code}) before it was ready`))
      })
    })
  }

  private failure(id: number, running: Running, what: string): LoadError {
    const tail = running.stderrTail.slice(-10).join('\n')
    return new LoadError('NODE_PROCESS', `node ${id} ${what}${tail ? `; its last log lines:\n${tail}` : ''}`)
  }
}
