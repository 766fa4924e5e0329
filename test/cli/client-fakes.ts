// An in-memory stand-in for the SDK client and captured streams, so that the
// client commands' parsing, printing and exit codes are tested without a node.
import { Readable } from 'node:stream'
import type {
  CliBatchMessage,
  CliClient,
  CliClusterMap,
  CliConnectOptions,
  CliKvEntry,
  CliMessage,
  CliQueueConfig,
  CliReceiveOptions,
  CliSendOptions,
} from '../../src/cli/client-api.js'
import { runClientCommand, type ClientCommandDeps } from '../../src/cli/client-commands.js'
import type { CliIo } from '../../src/cli/client-io.js'

export class FakeClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly missing?: string[],
  ) {
    super(message)
  }
}

const defaultConfig: CliQueueConfig = {
  visibilityTimeoutMs: 30_000,
  maxReceives: 0,
  deadLetterQueue: null,
  maxMessages: 0,
  delayMs: 0,
  retentionMs: 345_600_000,
}

interface FakeQueue {
  config: CliQueueConfig
  messages: { id: string; body: unknown; options: CliSendOptions }[]
  inFlight: Map<string, CliMessage>
}

/** Records every call; queues and keys live in maps. `failNext` makes the next call of an op throw. */
export class FakeClient implements CliClient {
  readonly calls: { op: string; args: unknown[] }[] = []
  readonly queueMap = new Map<string, FakeQueue>()
  readonly keys = new Map<string, CliKvEntry>()
  readonly failures = new Map<string, FakeClientError>()
  clusterMap: CliClusterMap | undefined
  closed = false
  private nextId = 1
  private nextVersion = 10

  failNext(op: string, error: FakeClientError): void {
    this.failures.set(op, error)
  }

  private record(op: string, ...args: unknown[]): void {
    this.calls.push({ op, args })
    const failure = this.failures.get(op)
    if (failure) {
      this.failures.delete(op)
      throw failure
    }
  }

  private queue(name: string): FakeQueue {
    const queue = this.queueMap.get(name)
    if (!queue) throw new FakeClientError('QUEUE_NOT_FOUND', `queue '${name}' does not exist`)
    return queue
  }

  private stats(queue: FakeQueue) {
    return { visible: queue.messages.length, inFlight: queue.inFlight.size, delayed: 0, total: queue.messages.length + queue.inFlight.size }
  }

  queues = {
    put: async (name: string, config?: Partial<CliQueueConfig>) => {
      this.record('queues.put', name, config)
      const existing = this.queueMap.get(name)
      const next = { ...(existing?.config ?? defaultConfig), ...config }
      if (existing) existing.config = next
      else this.queueMap.set(name, { config: next, messages: [], inFlight: new Map() })
      return { created: !existing, config: next }
    },
    get: async (name: string) => {
      this.record('queues.get', name)
      const queue = this.queue(name)
      return { name, config: queue.config, stats: this.stats(queue) }
    },
    list: async () => {
      this.record('queues.list')
      return [...this.queueMap].map(([name, queue]) => ({ name, stats: this.stats(queue) }))
    },
    delete: async (name: string) => {
      this.record('queues.delete', name)
      this.queue(name)
      this.queueMap.delete(name)
    },
    purge: async (name: string) => {
      this.record('queues.purge', name)
      const queue = this.queue(name)
      queue.messages = []
      queue.inFlight.clear()
    },
    send: async (name: string, body: unknown, options?: CliSendOptions) => {
      this.record('queues.send', name, body, options)
      const id = `m${this.nextId++}`
      this.queue(name).messages.push({ id, body, options: options ?? {} })
      return id
    },
    sendBatch: async (name: string, messages: CliBatchMessage[]) => {
      this.record('queues.sendBatch', name, messages)
      const queue = this.queue(name)
      return messages.map(({ body, ...options }) => {
        const id = `m${this.nextId++}`
        queue.messages.push({ id, body, options })
        return id
      })
    },
    receive: async (name: string, options?: CliReceiveOptions) => {
      this.record('queues.receive', name, options)
      const queue = this.queue(name)
      const taken = queue.messages.splice(0, options?.max ?? 1)
      return taken.map(({ id, body }) => {
        const message: CliMessage = { id, receipt: `r-${id}`, body, receiveCount: 1, sentAt: 1_700_000_000_000, priority: 0 }
        queue.inFlight.set(message.receipt, message)
        return message
      })
    },
    ack: async (name: string, receipts: string | string[]) => {
      this.record('queues.ack', name, receipts)
      const queue = this.queue(name)
      const list = typeof receipts === 'string' ? [receipts] : receipts
      const missing = list.filter((receipt) => !queue.inFlight.delete(receipt))
      if (missing.length > 0) throw new FakeClientError('RECEIPT_NOT_FOUND', `${missing.length} receipt(s) not found`, missing)
    },
  }

  kv = {
    get: async (key: string, options?: { consistency?: 'linearizable' | 'stale' }) => {
      this.record('kv.get', key, options)
      return this.keys.get(key)
    },
    put: async (key: string, value: string | Uint8Array, options?: { ttlMs?: number; ifVersion?: number }) => {
      this.record('kv.put', key, value, options)
      const current = this.keys.get(key)?.version ?? 0
      if (options?.ifVersion !== undefined && options.ifVersion !== current) {
        throw new FakeClientError('CONFLICT', `ifVersion ${options.ifVersion} does not match the current version ${current} of the key`)
      }
      const version = this.nextVersion++
      this.keys.set(key, { value: typeof value === 'string' ? Buffer.from(value) : Buffer.from(value), version })
      return version
    },
    delete: async (key: string, options?: { ifVersion?: number }) => {
      this.record('kv.delete', key, options)
      if (!this.keys.delete(key)) throw new FakeClientError('KEY_NOT_FOUND', `key '${key}' does not exist`)
    },
  }

  async cluster(): Promise<CliClusterMap> {
    this.record('cluster')
    if (!this.clusterMap) throw new FakeClientError('UNAVAILABLE', 'no map')
    return this.clusterMap
  }

  async removeNode(id: number): Promise<void> {
    this.record('removeNode', id)
    if (this.clusterMap) this.clusterMap = { ...this.clusterMap, nodes: this.clusterMap.nodes.filter((node) => node.id !== id) }
  }

  async close(): Promise<void> {
    this.closed = true
  }
}

export interface Run {
  code: number
  stdout: string
  stdoutBytes: Buffer
  stderr: string
  connected: CliConnectOptions[]
}

export interface RunOptions {
  stdin?: string | Buffer | Buffer[]
  env?: Record<string, string | undefined>
  tty?: boolean
  connectError?: Error
  commands?: ClientCommandDeps['commands']
}

/** Runs `troupe <argv>` against `client` with captured streams. */
export async function run(client: FakeClient, argv: string[], options: RunOptions = {}): Promise<Run> {
  const out: Buffer[] = []
  const err: string[] = []
  const connected: CliConnectOptions[] = []
  const stdinChunks = options.stdin === undefined ? [] : Array.isArray(options.stdin) ? options.stdin : [Buffer.from(options.stdin)]
  const io: CliIo = {
    stdout: { write: (chunk: string | Uint8Array) => out.push(Buffer.from(chunk)) },
    stderr: { write: (chunk: string) => err.push(chunk) },
    stdin: Readable.from(stdinChunks),
    stdoutIsTty: options.tty ?? false,
    env: options.env ?? {},
  }
  const code = await runClientCommand(argv, {
    io,
    ...(options.commands ? { commands: options.commands } : {}),
    connect: async (connectOptions) => {
      connected.push(connectOptions)
      if (options.connectError) throw options.connectError
      return client
    },
  })
  const stdoutBytes = Buffer.concat(out)
  return { code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: err.join(''), connected }
}
