// Starts a peer (or Troupe node) as a child process, tells when it is ready
// by a line it prints, and stops it: SIGTERM, then SIGKILL after a grace
// period. Every child still running when the bench process exits is killed,
// so that an interrupted or crashed run leaves no server behind.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { PeerBenchError } from './peer-error.js'

export interface LaunchSpec {
  /** A short name for messages, e.g. `etcd-2`. */
  name: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** A stdout or stderr line that means the process serves. */
  readyLine: RegExp
  readyTimeoutMs: number
  /** How long SIGTERM has before SIGKILL. */
  stopGraceMs?: number
}

export interface ManagedProcess {
  readonly name: string
  readonly pid: number
  /** Resolves once `readyLine` was seen; rejects if the process exits or the timeout passes first. */
  ready(): Promise<void>
  /** The last lines the process printed (stdout and stderr interleaved). */
  tail(): string
  /** SIGTERM, SIGKILL after the grace period; resolves with the exit code (null when killed by a signal). */
  stop(): Promise<number | null>
}

const TAIL_LINES = 20
const TAIL_LINE_CHARS = 300
const DEFAULT_STOP_GRACE_MS = 10_000
const running = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL')
  })
}

export function launch(spec: LaunchSpec): ManagedProcess {
  installExitHook()
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  const lines: string[] = []
  let exitCode: number | null | undefined
  let readySeen = false
  let onReady: (() => void) | undefined
  let onFailure: ((error: Error) => void) | undefined
  let resolveExited: (code: number | null) => void = () => undefined
  const exited = new Promise<number | null>((resolve) => (resolveExited = resolve))
  child.once('exit', (code) => {
    running.delete(child)
    exitCode = code
    resolveExited(code)
    onFailure?.(new PeerBenchError('PROCESS_EXITED', `${spec.name} exited with code ${code} before it was ready:\n${tail()}`))
  })
  child.once('error', (error) => {
    // spawn failed (e.g. ENOENT): there will be no 'exit' event.
    running.delete(child)
    exitCode = null
    resolveExited(null)
    onFailure?.(new PeerBenchError('PROCESS_EXITED', `${spec.name} could not start: ${error.message}`))
  })
  const tail = () => lines.join('\n')
  const onLine = (line: string) => {
    lines.push(line.length > TAIL_LINE_CHARS ? `${line.slice(0, TAIL_LINE_CHARS)}…` : line)
    if (lines.length > TAIL_LINES) lines.shift()
    if (!readySeen && spec.readyLine.test(line)) {
      readySeen = true
      onReady?.()
    }
  }
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine)

  const readyPromise = new Promise<void>((resolve, reject) => {
    if (readySeen) return resolve()
    const timer = setTimeout(
      () => reject(new PeerBenchError('READY_TIMEOUT', `${spec.name} printed no line matching ${spec.readyLine} within ${spec.readyTimeoutMs} ms:\n${tail()}`)),
      spec.readyTimeoutMs,
    )
    onReady = () => {
      clearTimeout(timer)
      resolve()
    }
    onFailure = (error) => {
      clearTimeout(timer)
      reject(error)
    }
  })
  // A caller that stops the process without awaiting ready() must not see an unhandled rejection.
  readyPromise.catch(() => undefined)

  return {
    name: spec.name,
    pid: child.pid ?? -1,
    ready: () => readyPromise,
    tail,
    async stop() {
      if (exitCode !== undefined) return exitCode
      child.kill('SIGTERM')
      const grace = setTimeout(() => child.kill('SIGKILL'), spec.stopGraceMs ?? DEFAULT_STOP_GRACE_MS)
      const code = await exited
      clearTimeout(grace)
      return code
    },
  }
}

/** Stops processes one after the other, ignoring ones already gone; never throws. */
export async function stopAll(processes: ManagedProcess[]): Promise<void> {
  for (const managed of processes) await managed.stop().catch(() => undefined)
}
