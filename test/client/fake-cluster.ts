// A small in-process stand-in for a Troupe cluster that speaks the client
// protocol (docs/PROTOCOL.md) over real TCP sockets on 127.0.0.1. Each fake
// node knows which shards it "leads" (set by the test); a shard op sent to a
// node that does not lead answers NOT_LEADER with the leader's address. The
// queues and KV live in one shared in-memory model, so the fake checks the
// SDK's behaviour, not Troupe's. Tests script faults with `intercept`:
// answer an error, hold a request, or cut the connection.
import { createServer, type Server, type Socket } from 'node:net'
import { shardForKey, shardForQueue } from '../../src/cluster/placement.js'
import { FrameDecoder, NO_FRAME } from '../../src/net/frame-decoder.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'

export interface FakeRequest {
  id: number
  op: string
  [field: string]: unknown
}

export interface WireError {
  code: string
  message: string
  leader?: { id: number; tcp?: string }
  missing?: string[]
  retryAfterMs?: number
}

/** What an interceptor decides: answer this, hold the request unanswered, cut the connection, or (undefined) let the fake answer. */
export type Verdict = { ok: true; r: unknown } | { ok: false; error: WireError } | 'hold' | 'drop' | undefined

export type Interceptor = (node: FakeNode, request: FakeRequest) => Verdict | Promise<Verdict>

interface StoredMessage {
  id: string
  body: unknown
  priority: number
  sentAt: number
  receiveCount: number
  visibleAt: number
  receipt: string | undefined
}

interface FakeQueue {
  config: { visibilityTimeoutMs: number; [field: string]: unknown }
  messages: Map<string, StoredMessage>
  dedup: Map<string, string>
}

export class FakeNode {
  readonly requests: FakeRequest[] = []
  readonly sockets = new Set<Socket>()
  connectionsAccepted = 0
  /** Keep-alive (zero-length) frames received, all connections together. */
  heartbeats = 0
  /** The most requests this node held unanswered at once on one connection. */
  maxInFlightSeen = 0
  address = ''

  constructor(
    readonly id: number,
    readonly server: Server,
  ) {}

  ops(op?: string): FakeRequest[] {
    return op === undefined ? this.requests : this.requests.filter((r) => r.op === op)
  }

  /** Destroys every client connection of this node (the listener stays). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy()
  }
}

export interface FakeClusterOptions {
  nodes?: number
  shardCount?: number
  token?: string
  maxInFlight?: number
}

export class FakeCluster {
  readonly nodes: FakeNode[] = []
  readonly shardCount: number
  /** shard -> leader node id (0: none); tests move leaders by editing it. */
  readonly leaders = new Map<number, number>()
  intercept: Interceptor | undefined
  /** Every nack the fake applied, with its delay. */
  readonly nacks: { receipt: string; delayMs: number; receiveCount: number }[] = []
  readonly extensions: { receipt: string; timeoutMs: number }[] = []
  readonly queues = new Map<string, FakeQueue>()
  readonly kv = new Map<string, { value: Uint8Array; version: number }>()
  #nextId = 1
  #kvVersion = 0
  readonly #options: Required<Omit<FakeClusterOptions, 'token'>> & { token: string | undefined }

  private constructor(options: FakeClusterOptions) {
    this.#options = { nodes: options.nodes ?? 3, shardCount: options.shardCount ?? 4, token: options.token, maxInFlight: options.maxInFlight ?? 1024 }
    this.shardCount = this.#options.shardCount
    for (let shard = 0; shard < this.shardCount; shard++) this.leaders.set(shard, (shard % this.#options.nodes) + 1)
  }

  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(options)
    for (let id = 1; id <= cluster.#options.nodes; id++) {
      const server = createServer()
      const node = new FakeNode(id, server)
      server.on('connection', (socket) => cluster.#serve(node, socket))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      node.address = `127.0.0.1:${(server.address() as { port: number }).port}`
      cluster.nodes.push(node)
    }
    return cluster
  }

  get seeds(): string[] {
    return this.nodes.map((n) => n.address)
  }

  node(id: number): FakeNode {
    return this.nodes[id - 1]!
  }

  leaderOfQueue(queue: string): FakeNode {
    return this.node(this.leaders.get(shardForQueue(queue, this.shardCount))!)
  }

  leaderOfKey(key: string): FakeNode {
    return this.node(this.leaders.get(shardForKey(key, this.shardCount))!)
  }

  /** All requests of an op, on every node. */
  ops(op: string): FakeRequest[] {
    return this.nodes.flatMap((n) => n.ops(op))
  }

  async close(): Promise<void> {
    for (const node of this.nodes) {
      node.dropConnections()
      await new Promise((resolve) => node.server.close(resolve))
    }
  }

  #serve(node: FakeNode, socket: Socket): void {
    node.connectionsAccepted++
    node.sockets.add(socket)
    socket.setNoDelay(true)
    const decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 })
    const encoder = new FrameEncoder({ maxFrameBytes: 128 * 1024 * 1024 })
    let welcomed = false
    let inFlight = 0
    const answer = (message: unknown): void => {
      if (!socket.destroyed) socket.write(encoder.encode(message))
    }
    socket.on('close', () => node.sockets.delete(socket))
    socket.on('error', () => undefined)
    socket.on('data', (chunk: Buffer) => {
      const heartbeatsBefore = decoder.heartbeatsReceived
      decoder.push(chunk)
      for (let frame = decoder.next(); frame !== NO_FRAME; frame = decoder.next()) {
        const message = frame as Record<string, unknown>
        if (!welcomed) {
          if (message['op'] !== 'hello' || message['v'] !== 1) {
            answer({ id: null, ok: false, error: { code: 'INVALID_ARGUMENT', message: 'expected hello v1' } })
            socket.end()
            return
          }
          if (this.#options.token !== undefined && message['token'] !== this.#options.token) {
            answer({ id: null, ok: false, error: { code: 'UNAUTHORIZED', message: 'bad token' } })
            socket.end()
            return
          }
          welcomed = true
          answer({ op: 'welcome', v: 1, node: node.id, shards: this.shardCount, maxFrameBytes: 10 * 1024 * 1024 + 65536, maxInFlight: this.#options.maxInFlight })
          continue
        }
        const request = message as FakeRequest
        node.requests.push(request)
        inFlight++
        node.maxInFlightSeen = Math.max(node.maxInFlightSeen, inFlight)
        void this.#respond(node, request).then((verdict) => {
          if (verdict === 'hold') return
          inFlight--
          if (verdict === 'drop') socket.destroy()
          else answer({ id: request.id, ...verdict })
        })
      }
      node.heartbeats += decoder.heartbeatsReceived - heartbeatsBefore
    })
  }

  async #respond(node: FakeNode, request: FakeRequest): Promise<Exclude<Verdict, undefined>> {
    const scripted = await this.intercept?.(node, request)
    if (scripted !== undefined) return scripted
    const shard = this.#shardOf(request)
    if (shard !== undefined) {
      const leader = this.leaders.get(shard) ?? 0
      if (leader !== node.id) {
        const error: WireError = { code: 'NOT_LEADER', message: `node ${node.id} does not lead shard ${shard}` }
        if (leader > 0) error.leader = { id: leader, tcp: this.node(leader).address }
        return { ok: false, error }
      }
    }
    try {
      return { ok: true, r: await this.#apply(request) }
    } catch (error) {
      return { ok: false, error: error as WireError }
    }
  }

  #shardOf(request: FakeRequest): number | undefined {
    if (typeof request['queue'] === 'string') return shardForQueue(request['queue'], this.shardCount)
    if (typeof request['key'] === 'string') return shardForKey(request['key'], this.shardCount)
    return undefined
  }

  clusterMap(answeringNode = 1): unknown {
    return {
      node: answeringNode,
      shardCount: this.shardCount,
      nodes: this.nodes.map((n) => ({ id: n.id, peer: `peer-${n.id}`, tcp: n.address, state: n.id === answeringNode ? 'self' : 'up' })),
      shards: [...this.leaders].map(([id, leader]) => ({ id, leader, term: 1, commitIndex: 0, members: this.nodes.map((n) => n.id) })),
    }
  }

  async #apply(request: FakeRequest): Promise<unknown> {
    const name = request['queue'] as string
    switch (request.op) {
      case 'ping':
        return {}
      case 'cluster':
        return this.clusterMap()
      case 'queue.put': {
        const existing = this.queues.get(name)
        const config = { visibilityTimeoutMs: 30_000, ...(existing?.config ?? {}), ...((request['config'] as object) ?? {}) }
        if (existing) existing.config = config
        else this.queues.set(name, { config, messages: new Map(), dedup: new Map() })
        return { created: !existing, config }
      }
      case 'queue.get': {
        const queue = this.#queue(name)
        return { name, config: queue.config, stats: this.#stats(queue) }
      }
      case 'queue.list':
        return { queues: [...this.queues].map(([n, q]) => ({ name: n, stats: this.#stats(q) })) }
      case 'queue.delete':
        this.#queue(name)
        this.queues.delete(name)
        return {}
      case 'queue.purge':
        this.#queue(name).messages.clear()
        return {}
      case 'send':
        return { id: this.#send(this.#queue(name), request) }
      case 'sendBatch': {
        const queue = this.#queue(name)
        return { ids: (request['messages'] as Record<string, unknown>[]).map((m) => this.#send(queue, m)) }
      }
      case 'receive':
        return { messages: await this.#receive(this.#queue(name), (request['max'] as number) ?? 1, (request['waitMs'] as number) ?? 0, request['visibilityTimeoutMs'] as number | undefined) }
      case 'ack': {
        const queue = this.#queue(name)
        const receipts = request['receipts'] !== undefined ? (request['receipts'] as string[]) : [request['receipt'] as string]
        const missing = receipts.filter((receipt) => {
          const message = this.#byReceipt(queue, receipt)
          if (message) queue.messages.delete(message.id)
          return message === undefined
        })
        if (missing.length > 0) throw { code: 'RECEIPT_NOT_FOUND', message: `${missing.length} receipt(s) not found`, missing }
        return {}
      }
      case 'nack': {
        const queue = this.#queue(name)
        const message = this.#found(queue, request['receipt'] as string)
        const delayMs = (request['delayMs'] as number) ?? 0
        this.nacks.push({ receipt: message.receipt!, delayMs, receiveCount: message.receiveCount })
        message.receipt = undefined
        message.visibleAt = Date.now() + delayMs
        return {}
      }
      case 'visibility': {
        const message = this.#found(this.#queue(name), request['receipt'] as string)
        this.extensions.push({ receipt: message.receipt!, timeoutMs: request['timeoutMs'] as number })
        message.visibleAt = Date.now() + (request['timeoutMs'] as number)
        return {}
      }
      case 'kv.get': {
        const entry = this.kv.get(request['key'] as string)
        return entry ? { value: entry.value, version: entry.version } : null
      }
      case 'kv.put': {
        const key = request['key'] as string
        const current = this.kv.get(key)
        if (request['ifVersion'] !== undefined && (current?.version ?? 0) !== request['ifVersion']) throw { code: 'CONFLICT', message: 'version mismatch' }
        const raw = request['value']
        const value = typeof raw === 'string' ? Buffer.from(raw) : (raw as Uint8Array)
        const version = ++this.#kvVersion
        this.kv.set(key, { value, version })
        return { version }
      }
      case 'kv.delete': {
        const key = request['key'] as string
        if (!this.kv.has(key)) throw { code: 'KEY_NOT_FOUND', message: `no key ${key}` }
        this.kv.delete(key)
        return {}
      }
      default:
        throw { code: 'INVALID_ARGUMENT', message: `unknown op ${request.op}` }
    }
  }

  #queue(name: string): FakeQueue {
    const queue = this.queues.get(name)
    if (!queue) throw { code: 'QUEUE_NOT_FOUND', message: `queue '${name}' does not exist` }
    return queue
  }

  #send(queue: FakeQueue, fields: Record<string, unknown>): string {
    const dedupId = fields['dedupId'] as string | undefined
    if (dedupId !== undefined && queue.dedup.has(dedupId)) return queue.dedup.get(dedupId)!
    const id = `m${this.#nextId++}`
    const now = Date.now()
    queue.messages.set(id, { id, body: fields['body'], priority: (fields['priority'] as number) ?? 0, sentAt: now, receiveCount: 0, visibleAt: now + ((fields['delayMs'] as number) ?? 0), receipt: undefined })
    if (dedupId !== undefined) queue.dedup.set(dedupId, id)
    return id
  }

  async #receive(queue: FakeQueue, max: number, waitMs: number, visibilityTimeoutMs: number | undefined): Promise<unknown[]> {
    const until = Date.now() + waitMs
    for (;;) {
      const now = Date.now()
      const ready = [...queue.messages.values()].filter((m) => m.visibleAt <= now).slice(0, max)
      if (ready.length > 0 || now >= until) {
        return ready.map((m) => {
          m.receiveCount++
          m.receipt = `${m.id}.${m.receiveCount}`
          m.visibleAt = now + (visibilityTimeoutMs ?? queue.config.visibilityTimeoutMs)
          return { id: m.id, receipt: m.receipt, body: m.body, receiveCount: m.receiveCount, sentAt: m.sentAt, priority: m.priority }
        })
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, until - now)))
    }
  }

  #byReceipt(queue: FakeQueue, receipt: string): StoredMessage | undefined {
    for (const message of queue.messages.values()) if (message.receipt === receipt && message.visibleAt > Date.now()) return message
    return undefined
  }

  #found(queue: FakeQueue, receipt: string): StoredMessage {
    const message = this.#byReceipt(queue, receipt)
    if (!message) throw { code: 'RECEIPT_NOT_FOUND', message: `receipt ${receipt} not found` }
    return message
  }

  #stats(queue: FakeQueue): Record<string, number> {
    const now = Date.now()
    const all = [...queue.messages.values()]
    const inFlight = all.filter((m) => m.receipt !== undefined && m.visibleAt > now).length
    const visible = all.filter((m) => m.visibleAt <= now).length
    return { visible, inFlight, delayed: all.length - visible - inFlight, total: all.length }
  }
}
