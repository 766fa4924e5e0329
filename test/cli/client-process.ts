// Real processes for the client commands' end-to-end tests: a `troupe start`
// node on free ports, and the CLI run as a child process the way a user runs it.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts } from './helpers.js'

const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))
/** No CLI run in these tests should come near this; it only stops a hung child from hanging the suite. */
const CLI_RUN_TIMEOUT_MS = 30_000

export interface StartedNode {
  child: ChildProcess
  /** The client TCP address from the ready line. */
  tcp: string
  http: string
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>
}

/** One `troupe start` process (a single-node cluster unless `extraArgs` say otherwise), resolved once it is ready. */
export async function startNode(dir: string, options: { id?: number; env?: Record<string, string>; extraArgs?: string[]; ports?: number[] } = {}): Promise<StartedNode> {
  const id = options.id ?? 1
  const [httpPort, tcpPort, peerPort] = options.ports ?? (await freePorts(3))
  const args = [
    bin, 'start', '--id', String(id), '--data', join(dir, `node-${id}`),
    '--http', `127.0.0.1:${httpPort}`, '--listen', `127.0.0.1:${tcpPort}`, '--peer', `127.0.0.1:${peerPort}`,
    '--shards', '4', '--threads', '1', ...(options.extraArgs ?? []),
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'error', ...options.env } })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const readyLine = await new Promise<string>((resolve, reject) => {
    let seen = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      seen += chunk
      const line = seen.split('\n').find((candidate) => candidate.startsWith(`troupe node ${id} ready`))
      if (line) resolve(line)
    })
    void exited.then((code) => reject(new Error(`node ${id} exited with ${code} before it was ready`)))
  })
  const field = (name: string) => new RegExp(` ${name}=(\\S+)`).exec(readyLine)?.[1]
  return {
    child,
    tcp: field('tcp')!,
    http: field('http')!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** `troupe <args>` in a child process; `env` is added to this process's environment without TROUPE_* variables. */
export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'error' }
  for (const name of Object.keys(env)) if (name.startsWith('TROUPE_')) delete env[name]
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...env, ...options.env } })
  const stdout: string[] = []
  const stderr: string[] = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk))
  child.stdin.end(options.stdin ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_RUN_TIMEOUT_MS)
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout: stdout.join(''), stderr: stderr.join('') })
    })
  })
}
