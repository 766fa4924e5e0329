// The `troupe` command line (CONTRACT §1): `start` runs one node in this
// process, `cluster` runs a local N-node cluster as child processes.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { RateLimitOptions } from '../http/index.js'
import type { TroupeNode } from '../node/troupe-node.js'

const usage = `usage: troupe <command> [options]

commands:
  start     run one node in this process
  cluster   run a local N-node cluster on loopback, one child process per node
  status    nodes, shards, leaders, terms and follower lag of a running cluster
  queue     create|send|receive|ack|stats|list|purge|delete (troupe queue --help)
  kv        get|put|del keys (troupe kv --help)
  node      remove ID: remove a member for good, to replace a lost machine
  help      show this text

client commands (status, queue, kv, node) reach the cluster through --nodes host:port,...
(TROUPE_NODES, else 127.0.0.1:7281) with TROUPE_TOKEN, follow the shard leader and
retry within --timeout-ms; 'troupe queue send --help' explains how.

troupe start options (each also read from TROUPE_<NAME>, e.g. TROUPE_DATA):
  --id N              node id, a positive integer unique in the cluster   (1)
  --data DIR          data directory: WAL, snapshots, node identity       (./data)
  --http HOST:PORT    HTTP API address                                    (127.0.0.1:7280)
  --listen HOST:PORT  client TCP protocol address (docs/PROTOCOL.md)      (127.0.0.1:7281)
  --peer HOST:PORT    node-to-node address                                (127.0.0.1:7282)
  --cluster LIST      initial members 1=host:peerport,2=host:peerport,...  (single node)
  --join ADDR         peer address of a member of a running cluster: join it (up to 3 members)
  --shards N          shards when the cluster is first created            (8)
  --sync MODE         always (fdatasync before acknowledging) | none       (always)
  --threads N         worker threads hosting shard actors                 (cores - 1, at least 1)
  --reads MODE        linearizable reads: safe (ReadIndex, a heartbeat round) | lease-based
                      (the leader lease: no round; assumes clock rates within 10%, and a killed
                      leader is replaced after ~1 s instead of ~0.1 s). Every member the same  (safe)
  --rate-limit-client RATE   token bucket per client address, e.g. 1000/s (off)
  --rate-limit-queue RATE    token bucket per queue, e.g. 5000/s          (off)

troupe cluster options:
  --nodes N           number of nodes                                     (3)
  --data DIR          node i keeps its data in DIR/node-i                  (./data)
  --base-port P       node i listens on P+10*(i-1) (HTTP), +1 (TCP), +2 (peer)   (7280)
  --shards N, --sync MODE, --threads N, --reads MODE   passed to every node

environment:
  TROUPE_TOKEN           clients must present it (HTTP: Authorization: Bearer <token>)
  TROUPE_CLUSTER_SECRET  peers must prove knowledge of it before any Raft message is accepted
  LOG_LEVEL              pino level (info); logs are JSON lines on stderr
`

const startOptions = {
  id: { type: 'string' },
  data: { type: 'string' },
  http: { type: 'string' },
  listen: { type: 'string' },
  peer: { type: 'string' },
  cluster: { type: 'string' },
  join: { type: 'string' },
  shards: { type: 'string' },
  sync: { type: 'string' },
  threads: { type: 'string' },
  reads: { type: 'string' },
  'rate-limit-client': { type: 'string' },
  'rate-limit-queue': { type: 'string' },
} as const

export class UsageError extends Error {}

/** A flag's value, else TROUPE_<NAME> from the environment, else the default. */
function option(values: Record<string, string | boolean | undefined>, name: string, fallback?: string): string | undefined {
  const flag = values[name]
  if (typeof flag === 'string') return flag
  const env = process.env[`TROUPE_${name.toUpperCase().replace(/-/g, '_')}`]
  return env !== undefined && env !== '' ? env : fallback
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) <= 0) throw new UsageError(`--${name} must be a positive integer, got '${text}'`)
  return Number(text)
}

export function splitAddress(name: string, text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':')
  const host = text.slice(0, at)
  const port = Number(text.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--${name} must be HOST:PORT, got '${text}'`)
  return { host, port }
}

async function start(argv: string[]): Promise<number> {
  // Loaded here, not at the top: client commands need none of the node's code.
  const { startHttpServer, rateLimitFromEnv, parseRateSpec } = await import('../http/index.js')
  const { startClientServer } = await import('../net/index.js')
  const { startNode } = await import('../node/start-node.js')
  const { createDefaultLogger } = await import('../runtime/logger.js')
  const { values } = parseArgs({ args: argv, options: startOptions, strict: true })
  const id = integer('id', option(values, 'id', '1'))!
  const http = splitAddress('http', option(values, 'http', '127.0.0.1:7280')!)
  const listen = option(values, 'listen', '127.0.0.1:7281')!
  const peer = option(values, 'peer', '127.0.0.1:7282')!
  const tcp = splitAddress('listen', listen)
  splitAddress('peer', peer)
  const sync = option(values, 'sync', 'always')
  if (sync !== 'always' && sync !== 'none') throw new UsageError(`--sync must be 'always' or 'none', got '${sync}'`)
  const threads = integer('threads', option(values, 'threads'))
  const reads = option(values, 'reads', 'safe')
  if (reads !== 'safe' && reads !== 'lease-based') throw new UsageError(`--reads must be 'safe' or 'lease-based', got '${reads}'`)
  const shards = integer('shards', option(values, 'shards'))
  const cluster = option(values, 'cluster')
  const joinAddress = option(values, 'join')
  if (joinAddress !== undefined) {
    splitAddress('join', joinAddress)
    if (cluster !== undefined) throw new UsageError('give --cluster (the initial members) or --join (a member of a running cluster), not both')
  }
  const secret = process.env['TROUPE_CLUSTER_SECRET']
  const log = createDefaultLogger('troupe')
  let rateLimit: RateLimitOptions | undefined = rateLimitFromEnv(process.env)
  const perClient = typeof values['rate-limit-client'] === 'string' ? values['rate-limit-client'] : undefined
  const perQueue = typeof values['rate-limit-queue'] === 'string' ? values['rate-limit-queue'] : undefined
  if (perClient || perQueue) {
    rateLimit = {
      ...rateLimit,
      ...(perClient ? { perClient: parseRateSpec(perClient) } : {}),
      ...(perQueue ? { perQueue: parseRateSpec(perQueue) } : {}),
    }
  }

  // A signal while the node starts cancels the start (a node waiting for
  // peers that are not there stops at once); once the node is up, it stops
  // gracefully. A signal between the two stops the node as soon as it is up.
  const starting = new AbortController()
  let signalled: NodeJS.Signals | undefined
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
    signalled = signal
    starting.abort(new Error(`stopped by ${signal} during start-up`))
  }
  process.once('SIGTERM', (signal) => onSignal(signal))
  process.once('SIGINT', (signal) => onSignal(signal))

  let node: TroupeNode
  try {
    node = await startNode({
      id,
      dataDir: option(values, 'data', './data')!,
      sync,
      readOnly: reads,
      peer,
      logger: log,
      signal: starting.signal,
      ...(threads !== undefined ? { threads } : {}),
      ...(shards !== undefined ? { shards } : {}),
      ...(cluster !== undefined ? { cluster } : {}),
      ...(joinAddress !== undefined ? { join: joinAddress } : {}),
      ...(secret ? { clusterSecret: secret } : {}),
    })
  } catch (error) {
    if (!starting.signal.aborted) throw error
    log.info({ signal: signalled }, 'start-up cancelled: node stopped')
    return 0
  }
  onSignal = (signal) => (signalled = signal)
  const token = process.env['TROUPE_TOKEN'] || undefined
  // Shutdown budget (10 s): ≤ 3 s for client requests in flight (TCP and HTTP
  // at once), then the node's leadership hand-over (≤ 3 s), ≤ 2 s for the
  // proposals still in flight, and stop.
  const clientServer = await startClientServer(node, { host: tcp.host, port: tcp.port, closeGraceMs: 3_000, ...(token ? { token } : {}), logger: log })
  const server = await startHttpServer(node, {
    host: http.host,
    port: http.port,
    ...(process.env['TROUPE_TOKEN'] ? { token: process.env['TROUPE_TOKEN'] } : {}),
    ...(rateLimit ? { rateLimit } : {}),
    closeGraceMs: 3_000,
    advertise: { tcp: clientServer.advertised, peer },
    logger: log,
  })
  process.stdout.write(`troupe node ${id} ready http=${server.address.host}:${server.address.port} tcp=${clientServer.advertised} peer=${peer}\n`)

  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'shutting down')
      // The contract allows 10 s; whatever is still open then is cut.
      const deadline = setTimeout(() => {
        log.warn('shutdown took longer than 10 s: exiting')
        resolve(0)
      }, 9_500)
      deadline.unref()
      void (async () => {
        try {
          // New connections are refused at once; the open ones are served
          // while the shards this node leads move, so their clients follow
          // the new leaders (NOT_LEADER) instead of waiting out a refusal.
          clientServer.stopAccepting()
          server.stopAccepting()
          await node.handOverLeadership()
          await Promise.all([clientServer.close(), server.close()])
          await node.close()
        } catch (error) {
          log.error({ err: error }, 'error during shutdown')
        }
        clearTimeout(deadline)
        resolve(0)
      })()
    }
    onSignal = stop
    if (signalled) stop(signalled)
  })
}

async function cluster(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      nodes: { type: 'string' },
      data: { type: 'string' },
      'base-port': { type: 'string' },
      shards: { type: 'string' },
      sync: { type: 'string' },
      threads: { type: 'string' },
      reads: { type: 'string' },
    },
  })
  const count = integer('nodes', values.nodes ?? '3')!
  const basePort = integer('base-port', values['base-port'] ?? '7280')!
  const dataDir = values.data ?? './data'
  if (count > 64) throw new UsageError('--nodes must be at most 64')
  if (basePort + 10 * (count - 1) + 2 > 65535) throw new UsageError('--base-port is too high for that many nodes')
  const peerOf = (i: number) => `127.0.0.1:${basePort + 10 * (i - 1) + 2}`
  const members = Array.from({ length: count }, (_, k) => `${k + 1}=${peerOf(k + 1)}`).join(',')
  const bin = fileURLToPath(new URL('./troupe.js', import.meta.url))
  const children: ChildProcess[] = []
  for (let i = 1; i <= count; i++) {
    const port = basePort + 10 * (i - 1)
    const args = [
      bin,
      'start',
      '--id', String(i),
      '--data', `${dataDir}/node-${i}`,
      '--http', `127.0.0.1:${port}`,
      '--listen', `127.0.0.1:${port + 1}`,
      '--peer', peerOf(i),
      '--cluster', members,
      ...(values.shards ? ['--shards', values.shards] : []),
      ...(values.sync ? ['--sync', values.sync] : []),
      ...(values.threads ? ['--threads', values.threads] : []),
      ...(values.reads ? ['--reads', values.reads] : []),
    ]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line) process.stdout.write(`[node ${i}] ${line}\n`)
    })
    children.push(child)
  }
  return new Promise<number>((resolve) => {
    let live = children.length
    let stopping = false
    let failed = false
    const stopAll = () => {
      if (stopping) return
      stopping = true
      for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
    }
    for (const [k, child] of children.entries()) {
      child.once('exit', (code, signal) => {
        if (!stopping) {
          process.stderr.write(`troupe cluster: node ${k + 1} exited (${signal ?? code}); stopping the others\n`)
          failed = true
          stopAll()
        }
        if (--live === 0) resolve(failed ? 1 : 0)
      })
    }
    process.once('SIGINT', stopAll)
    process.once('SIGTERM', stopAll)
  })
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage)
        return 0
      case 'start':
        return await start(rest)
      case 'cluster':
        return await cluster(rest)
      case 'status':
      case 'queue':
      case 'kv':
      case 'node':
        // Loaded on demand: `start` has no use for the SDK.
        return await (await import('./client-commands.js')).runClientCommand(argv)
      default:
        process.stderr.write(`troupe: unknown command '${command}'\n\n${usage}`)
        return 2
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`troupe ${command}: ${(error as Error).message}\n\nrun 'troupe help' for the options\n`)
      return 2
    }
    process.stderr.write(`troupe ${command}: ${(error as Error).message}\n`)
    return 1
  }
}
