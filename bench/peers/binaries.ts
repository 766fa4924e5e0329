// Finds the peer binaries, and installs their Debian packages when missing:
// with --install, or when running as root (the bench box). Otherwise it stops
// with the exact command to run.
import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { basename, delimiter, join } from 'node:path'
import { PeerBenchError } from './peer-error.js'

export interface PeerBinary {
  /** Executable name. */
  command: string
  /** Debian package that provides it. */
  aptPackage: string
}

export const BINARIES = {
  redis: { command: 'redis-server', aptPackage: 'redis-server' },
  nats: { command: 'nats-server', aptPackage: 'nats-server' },
  etcd: { command: 'etcd', aptPackage: 'etcd-server' },
} as const satisfies Record<string, PeerBinary>

/** sbin directories are searched too: Debian puts nats-server in /usr/sbin, outside a normal user's PATH. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin']
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000

export function findExecutable(command: string, pathEnv = process.env['PATH'] ?? ''): string | undefined {
  const dirs = [...pathEnv.split(delimiter).filter((dir) => dir !== ''), ...EXTRA_DIRS]
  for (const dir of dirs) {
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here: try the next directory
    }
  }
  return undefined
}

export function installCommand(binaries: PeerBinary[]): string {
  const packages = [...new Set(binaries.map((binary) => binary.aptPackage))]
  return `sudo apt-get install -y ${packages.join(' ')}`
}

/** Whether a missing binary may be installed by the bench itself. */
export function mayInstall(installFlag: boolean, isRoot: boolean): boolean {
  return installFlag || isRoot
}

function runApt(packages: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0
  const [command, args] = asRoot ? ['apt-get', ['install', '-y', ...packages]] : ['sudo', ['-n', 'apt-get', 'install', '-y', ...packages]]
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new PeerBenchError('INSTALL_FAILED', `${command} ${args.join(' ')}: ${error.message}`))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve()
      else reject(new PeerBenchError('INSTALL_FAILED', `${command} ${args.join(' ')} exited with ${code ?? signal}`))
    })
  })
}

/** The absolute path of each binary, installing the missing ones when allowed. */
export async function ensureBinaries(
  binaries: PeerBinary[],
  options: { install: boolean; log: (line: string) => void },
): Promise<Map<string, string>> {
  const missing = binaries.filter((binary) => findExecutable(binary.command) === undefined)
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0
    if (!mayInstall(options.install, isRoot)) {
      throw new PeerBenchError(
        'BINARY_MISSING',
        `missing ${missing.map((b) => b.command).join(', ')}: run \`${installCommand(missing)}\` or pass --install`,
      )
    }
    options.log(`installing ${missing.map((b) => b.aptPackage).join(' ')} with apt-get`)
    await runApt([...new Set(missing.map((b) => b.aptPackage))])
  }
  const paths = new Map<string, string>()
  for (const binary of binaries) {
    const path = findExecutable(binary.command)
    if (path === undefined) throw new PeerBenchError('BINARY_MISSING', `${binary.command} is still missing after installing ${binary.aptPackage}`)
    paths.set(binary.command, path)
  }
  return paths
}

/** `<name> <x.y.z>` from what `binary --version` prints (e.g. `nats-server 2.9.10`), for the report. */
export function binaryVersion(path: string): string {
  const answer = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  const version = /(\d+\.\d+\.\d+)/.exec(`${answer.stdout ?? ''} ${answer.stderr ?? ''}`)?.[1] ?? 'unknown version'
  return `${basename(path)} ${version}`
}
