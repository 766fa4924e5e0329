// One TCP connection to one node, speaking the client protocol v1
// (docs/PROTOCOL.md): handshake, then pipelined requests matched to their
// answers by id.
//
// Writes are coalesced: the frames queued before the microtask queue drains
// go out in one socket.write, so a burst of pipelined calls (and the callers
// that a batch of answers wakes up together) costs one syscall instead of one
// each. A microtask rather than setImmediate: waiting for the next loop turn
// added latency that a closed-loop benchmark paid on every call, for little
// more batching. At most
// `maxInFlight` requests are on the wire; more wait in a bounded local queue,
// and beyond that a request fails at once with RATE_LIMITED (the caller's
// retry loop backs off).
//
// When the connection dies, a request's fate depends on whether its frame was
// handed to the socket: not yet → CONNECTION_FAILED (known not sent, safe to
// retry); already → CONNECTION_LOST (the node may have applied it).
//
// A node that hangs (stopped process, partition without a reset) closes
// nothing, so silence is watched: while requests wait and nothing has arrived
// for half of `livenessTimeoutMs`, a `ping` goes out; still nothing at the
// full timeout, and the connection is declared lost. One in-flight slot below
// the node's limit is kept free so the ping is always read, even behind a
// connection full of long polls.
import { connect as netConnect, type Socket } from 'node:net'
import type { Logger } from 'pino'
import { FrameDecoder, FRAME_HEADER_BYTES, NO_FRAME } from '../net/frame-decoder.js'
import { NetError } from '../net/net-error.js'
import { parsePeerAddress } from '../net/peer-address.js'
import { createWirePackr } from '../net/wire-codec.js'
import type { Cancellation } from './cancellation.js'
import { errorFromWire, TroupeClientError } from './client-error.js'

export const PROTOCOL_VERSION = 1
/** The node's default frame limit (10 MiB + 64 KiB), assumed until its welcome says otherwise. */
export const DEFAULT_MAX_FRAME_BYTES = 10 * 1024 * 1024 + 64 * 1024
/** Answers can be larger than requests (a receive of 100 big messages); still bounded. */
export const ANSWER_MAX_FRAME_BYTES = 128 * 1024 * 1024
/** Frames decoded per socket chunk before yielding, so one huge chunk cannot starve the loop. */
const FRAMES_PER_CHUNK_MAX = 100_000
const KEEP_ALIVE_FRAME = Buffer.alloc(FRAME_HEADER_BYTES)

export interface ClientConnectionOptions {
  /** `host:port` of the node's client listener. */
  address: string
  token: string | undefined
  clientName: string
  connectTimeoutMs: number
  maxInFlight: number
  maxQueued: number
  keepAliveIntervalMs: number
  livenessTimeoutMs: number
  logger: Logger | undefined
  /** Called once, when the connection is gone (whatever the reason). */
  onClose?: (connection: ClientConnection, reason: TroupeClientError) => void
}

export interface Welcome {
  node: number
  shards: number
  maxFrameBytes: number
  maxInFlight: number
}

interface PendingRequest {
  id: number
  frame: Buffer
  written: boolean
  done: boolean
  resolve(value: unknown): void
  reject(error: TroupeClientError): void
  cancellation: Cancellation | undefined
  unsubscribe: (() => void) | undefined
}

type State = 'connecting' | 'open' | 'closed'

export class ClientConnection {
  readonly address: string
  #options: ClientConnectionOptions
  #socket: Socket
  #decoder = new FrameDecoder({ maxFrameBytes: ANSWER_MAX_FRAME_BYTES })
  #packr = createWirePackr()
  #state: State = 'connecting'
  #welcome: Welcome | undefined
  #maxFrameBytes = DEFAULT_MAX_FRAME_BYTES
  #maxInFlight: number
  #nextId = 1
  /** On the wire or about to be (in #outbox), keyed by id. */
  readonly #inFlight = new Map<number, PendingRequest>()
  /** Ids whose caller gave up while the node still works on them: they hold an in-flight slot until answered. */
  readonly #abandoned = new Set<number>()
  /** Waiting for an in-flight slot; entries before #waitingHead are taken. */
  #waiting: PendingRequest[] = []
  #waitingHead = 0
  #outbox: PendingRequest[] = []
  #flushScheduled = false
  #wroteSinceKeepAlive = false
  #keepAliveTimer: NodeJS.Timeout | undefined
  #livenessTimer: NodeJS.Timeout | undefined
  /** Since when requests wait with nothing received (meaningful only while some are in flight). */
  #silentSinceMs = 0
  #probeId: number | undefined
  #closeReason: TroupeClientError | undefined
  #opened: Promise<Welcome>

  private constructor(options: ClientConnectionOptions) {
    this.address = options.address
    this.#options = options
    this.#maxInFlight = options.maxInFlight
    const { host, port } = parsePeerAddress(options.address)
    this.#socket = netConnect({ host, port, noDelay: true })
    this.#opened = this.#handshake()
  }

  /** Connects and completes the handshake; rejects with CONNECTION_FAILED, UNAUTHORIZED, UNAVAILABLE... */
  static async open(options: ClientConnectionOptions): Promise<ClientConnection> {
    const connection = new ClientConnection(options)
    await connection.#opened
    return connection
  }

  get welcome(): Welcome | undefined {
    return this.#welcome
  }

  get isOpen(): boolean {
    return this.#state === 'open'
  }

  /** Requests holding a slot on the wire (abandoned ones included). */
  get inFlight(): number {
    return this.#inFlight.size + this.#abandoned.size
  }

  get queued(): number {
    return this.#waiting.length - this.#waitingHead
  }

  /**
   * Sends `{ id, op, ...args }` and resolves with the answer's `r`, or rejects
   * with the node's error (TroupeClientError with the protocol code). When
   * `cancellation` fires first, rejects with its reason and forgets the
   * request (its slot is freed when the node answers).
   */
  request(op: string, args: Readonly<Record<string, unknown>>, cancellation?: Cancellation): Promise<unknown> {
    if (this.#state !== 'open') {
      // Nothing is sent on a closed connection: CONNECTION_FAILED (safe to retry), never the CONNECTION_LOST it died of.
      const reason = this.#closeReason
      return Promise.reject(
        reason?.code === 'CLOSED'
          ? reason
          : new TroupeClientError('CONNECTION_FAILED', `connection to ${this.address} is not open${reason ? `: ${reason.message}` : ''}`, { cause: reason }),
      )
    }
    const id = this.#nextId++
    let frame: Buffer
    try {
      frame = this.#encode({ ...args, id, op })
    } catch (error) {
      return Promise.reject(error)
    }
    if (this.inFlight >= this.#maxInFlight && this.queued >= this.#options.maxQueued) {
      return Promise.reject(
        new TroupeClientError('RATE_LIMITED', `${this.queued} requests already wait for a slot on the connection to ${this.address}`),
      )
    }
    return new Promise<unknown>((resolve, reject) => {
      const pending: PendingRequest = { id, frame, written: false, done: false, resolve, reject, cancellation, unsubscribe: undefined }
      if (cancellation) {
        if (cancellation.cancelled) {
          reject(cancelReason(cancellation))
          return
        }
        pending.unsubscribe = cancellation.subscribe(() => this.#abandon(pending))
      }
      if (this.inFlight < this.#maxInFlight) this.#dispatch(pending)
      else this.#waiting.push(pending)
    })
  }

  /** Closes the connection; everything pending fails (CLOSED unless a reason is given). */
  close(reason: TroupeClientError = new TroupeClientError('CLOSED', `connection to ${this.address} closed by the client`)): void {
    this.#shutdown(reason)
  }

  #encode(message: Record<string, unknown>): Buffer {
    let payload: Uint8Array
    try {
      payload = this.#packr.pack(message)
    } catch (error) {
      throw new TroupeClientError('INVALID_ARGUMENT', `cannot encode the request as msgpack: ${describe(error)}`, { cause: error })
    }
    if (payload.length > this.#maxFrameBytes) {
      throw new TroupeClientError('PAYLOAD_TOO_LARGE', `request of ${payload.length} bytes is over the node's frame limit of ${this.#maxFrameBytes} bytes`)
    }
    // msgpackr reuses its buffer: copy the payload out now.
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
    frame.writeUInt32BE(payload.length, 0)
    frame.set(payload, FRAME_HEADER_BYTES)
    return frame
  }

  #dispatch(pending: PendingRequest): void {
    if (this.inFlight === 0) this.#silentSinceMs = Date.now()
    this.#inFlight.set(pending.id, pending)
    this.#outbox.push(pending)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      queueMicrotask(() => this.#flush())
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#state !== 'open' || this.#outbox.length === 0) return
    const frames: Buffer[] = []
    for (const pending of this.#outbox) {
      if (pending.done) continue
      pending.written = true
      frames.push(pending.frame)
    }
    this.#outbox = []
    if (frames.length === 0) return
    this.#socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames))
    this.#wroteSinceKeepAlive = true
  }

  #abandon(pending: PendingRequest): void {
    if (pending.done) return
    pending.done = true
    const reason = cancelReason(pending.cancellation!)
    if (this.#inFlight.delete(pending.id)) {
      // Not yet written: the slot frees now (#flush skips it); written: when the answer comes.
      if (pending.written) this.#abandoned.add(pending.id)
      else this.#promoteWaiting()
    }
    pending.reject(reason)
  }

  #settle(pending: PendingRequest): void {
    pending.done = true
    pending.unsubscribe?.()
  }

  #promoteWaiting(): void {
    while (this.inFlight < this.#maxInFlight && this.#waitingHead < this.#waiting.length) {
      const next = this.#waiting[this.#waitingHead]!
      this.#waiting[this.#waitingHead] = undefined as unknown as PendingRequest
      this.#waitingHead++
      if (!next.done) this.#dispatch(next)
    }
    if (this.#waitingHead === this.#waiting.length) {
      this.#waiting = []
      this.#waitingHead = 0
    } else if (this.#waitingHead >= 1024 && this.#waitingHead * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#waitingHead)
      this.#waitingHead = 0
    }
  }

  async #handshake(): Promise<Welcome> {
    const socket = this.#socket
    const log = this.#options.logger
    return new Promise<Welcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#shutdown(new TroupeClientError('CONNECTION_FAILED', `no handshake with ${this.address} within ${this.#options.connectTimeoutMs} ms`))
      }, this.#options.connectTimeoutMs)
      const settleHandshake = (error: TroupeClientError | undefined, welcome?: Welcome): void => {
        clearTimeout(timer)
        if (error) reject(error)
        else resolve(welcome!)
      }
      this.#onHandshakeEnd = settleHandshake
      socket.on('connect', () => {
        const hello: Record<string, unknown> = { op: 'hello', v: PROTOCOL_VERSION, client: this.#options.clientName }
        if (this.#options.token !== undefined) hello['token'] = this.#options.token
        socket.write(this.#encode(hello))
      })
      socket.on('data', (chunk: Buffer) => this.#onData(chunk))
      socket.on('error', (error) => {
        const code = this.#state === 'connecting' ? 'CONNECTION_FAILED' : 'CONNECTION_LOST'
        log?.debug({ address: this.address, err: error }, 'client connection error')
        this.#shutdown(new TroupeClientError(code, `connection to ${this.address} failed: ${error.message}`, { cause: error }))
      })
      socket.on('close', () => {
        const code = this.#state === 'connecting' ? 'CONNECTION_FAILED' : 'CONNECTION_LOST'
        this.#shutdown(new TroupeClientError(code, `connection to ${this.address} closed by the node`))
      })
    })
  }

  #onHandshakeEnd: ((error: TroupeClientError | undefined, welcome?: Welcome) => void) | undefined

  #onData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk)
      for (let n = 0; n < FRAMES_PER_CHUNK_MAX; n++) {
        const frame = this.#decoder.next()
        if (frame === NO_FRAME) return
        this.#onFrame(frame)
        if (this.#state === 'closed') return
      }
      // More frames than the bound in one chunk: finish them on the next turn.
      setImmediate(() => this.#state !== 'closed' && this.#onData(Buffer.alloc(0)))
    } catch (error) {
      const detail = error instanceof NetError ? `${error.code}: ${error.message}` : describe(error)
      this.#shutdown(new TroupeClientError(this.#state === 'connecting' ? 'CONNECTION_FAILED' : 'CONNECTION_LOST', `bad frame from ${this.address}: ${detail}`, { cause: error }))
    }
  }

  #onFrame(frame: unknown): void {
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      throw new Error('a frame that is not a map')
    }
    this.#silentSinceMs = Date.now()
    const answer = frame as Record<string, unknown>
    if (this.#state === 'connecting') return this.#onHandshakeAnswer(answer)
    const id = answer['id']
    if (id === null || id === undefined) {
      // A connection-level error: the node closes right after it.
      const error = errorFromWire(answer['error'])
      this.#options.logger?.debug({ address: this.address, code: error.code }, 'connection-level error from node')
      this.#closeReason = error
      return
    }
    if (typeof id !== 'number') throw new Error(`an answer whose id is ${typeof id}`)
    if (this.#abandoned.delete(id)) {
      this.#promoteWaiting()
      return
    }
    const pending = this.#inFlight.get(id)
    if (!pending) throw new Error(`an answer to request ${id}, which is not in flight`)
    this.#inFlight.delete(id)
    this.#settle(pending)
    if (answer['ok'] === true) pending.resolve(answer['r'])
    else pending.reject(errorFromWire(answer['error']))
    this.#promoteWaiting()
  }

  #onHandshakeAnswer(answer: Record<string, unknown>): void {
    if (answer['op'] !== 'welcome') {
      const error = errorFromWire(answer['error'])
      this.#shutdown(new TroupeClientError(error.code, `${this.address} refused the handshake: ${error.message}`, { retryAfterMs: error.retryAfterMs }))
      return
    }
    const welcome: Welcome = {
      node: numberField(answer, 'node', 0),
      shards: numberField(answer, 'shards', 0),
      maxFrameBytes: numberField(answer, 'maxFrameBytes', DEFAULT_MAX_FRAME_BYTES),
      maxInFlight: numberField(answer, 'maxInFlight', this.#options.maxInFlight),
    }
    this.#welcome = welcome
    this.#maxFrameBytes = welcome.maxFrameBytes
    this.#maxInFlight = Math.max(1, Math.min(this.#options.maxInFlight, welcome.maxInFlight - 1))
    this.#state = 'open'
    this.#startKeepAlive()
    this.#startLivenessCheck()
    const end = this.#onHandshakeEnd
    this.#onHandshakeEnd = undefined
    end?.(undefined, welcome)
  }

  #startKeepAlive(): void {
    this.#keepAliveTimer = setInterval(() => {
      if (this.#state !== 'open') return
      if (!this.#wroteSinceKeepAlive) this.#socket.write(KEEP_ALIVE_FRAME)
      this.#wroteSinceKeepAlive = false
    }, this.#options.keepAliveIntervalMs)
    this.#keepAliveTimer.unref()
  }

  #startLivenessCheck(): void {
    const timeoutMs = this.#options.livenessTimeoutMs
    this.#livenessTimer = setInterval(() => {
      if (this.#state !== 'open') return
      const waiting = this.inFlight - (this.#probeId !== undefined ? 1 : 0)
      if (waiting <= 0) return
      const silentMs = Date.now() - this.#silentSinceMs
      if (silentMs >= timeoutMs) {
        this.#shutdown(new TroupeClientError('CONNECTION_LOST', `${this.address} sent nothing for ${silentMs} ms while ${waiting} request(s) waited, a ping included`))
      } else if (silentMs >= timeoutMs / 2 && this.#probeId === undefined) {
        this.#probe()
      }
    }, Math.max(1, Math.floor(timeoutMs / 4)))
    this.#livenessTimer.unref()
  }

  /** A ping outside the in-flight cap: any answer proves the node alive. */
  #probe(): void {
    const id = this.#nextId++
    this.#probeId = id
    const done = (): void => {
      if (this.#probeId === id) this.#probeId = undefined
    }
    const pending: PendingRequest = { id, frame: this.#encode({ id, op: 'ping' }), written: false, done: false, resolve: done, reject: done, cancellation: undefined, unsubscribe: undefined }
    this.#inFlight.set(id, pending)
    this.#outbox.push(pending)
    this.#flush()
  }

  #shutdown(reason: TroupeClientError): void {
    if (this.#state === 'closed') return
    const wasConnecting = this.#state === 'connecting'
    this.#state = 'closed'
    // A connection-level error the node sent before closing says more than "closed".
    const final = this.#closeReason && !wasConnecting && reason.code === 'CONNECTION_LOST' ? withCause(reason, this.#closeReason) : reason
    this.#closeReason = final
    if (this.#keepAliveTimer) clearInterval(this.#keepAliveTimer)
    if (this.#livenessTimer) clearInterval(this.#livenessTimer)
    this.#socket.destroy()
    const end = this.#onHandshakeEnd
    this.#onHandshakeEnd = undefined
    end?.(final)
    const notSent = (): TroupeClientError =>
      final.code === 'CONNECTION_LOST'
        ? new TroupeClientError('CONNECTION_FAILED', `${final.message} before the request was written`, { cause: final })
        : final
    for (const pending of this.#inFlight.values()) {
      this.#settle(pending)
      pending.reject(pending.written ? final : notSent())
    }
    this.#inFlight.clear()
    this.#abandoned.clear()
    for (let i = this.#waitingHead; i < this.#waiting.length; i++) {
      const pending = this.#waiting[i]!
      if (pending.done) continue
      this.#settle(pending)
      pending.reject(notSent())
    }
    this.#waiting = []
    this.#waitingHead = 0
    this.#outbox = []
    this.#options.onClose?.(this, final)
  }
}

function withCause(reason: TroupeClientError, nodeError: TroupeClientError): TroupeClientError {
  return new TroupeClientError(reason.code, `${reason.message} after a connection-level ${nodeError.code}: ${nodeError.message}`, {
    cause: nodeError,
    ...(nodeError.retryAfterMs !== undefined ? { retryAfterMs: nodeError.retryAfterMs } : {}),
  })
}

function numberField(answer: Record<string, unknown>, name: string, fallback: number): number {
  const value = answer[name]
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback
}

function cancelReason(cancellation: Cancellation): TroupeClientError {
  const reason: unknown = cancellation.reason
  return reason instanceof TroupeClientError ? reason : new TroupeClientError('CLOSED', 'the request was cancelled', { cause: reason })
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
