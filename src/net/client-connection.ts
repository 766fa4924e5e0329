// One client connection: the hello, then requests run concurrently and their
// answers written as they finish.
//
// Throughput comes from the two ends of a turn of the event loop: every frame
// of a socket read is decoded and started at once, and every answer that
// finished during a turn goes out in one socket write (a setImmediate flush of
// the outbound slabs). Memory is bounded by not reading: the connection stops
// pulling frames at `maxInFlightPerConnection` running requests, and pauses
// the socket while that holds or while more than `outboundHighWaterBytes` of
// answers wait to be written; TCP pushes back on the client.
//
// A client controls every byte here, so nothing it sends may throw out of a
// handler: a bad field gets an error answer, anything that is not a frame of a
// map with a numeric id ends the connection.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { Kv, Queues, TroupeNode } from '../node/troupe-node.js'
import type { ClientLongPolls } from './client-long-polls.js'
import { isMap, runOp, type OpContext } from './client-ops.js'
import { CLIENT_PROTOCOL_VERSION, CLIENT_PROTOCOL_VERSIONS, type ClientErrorCode, type ClientWelcome, type ClientWireError } from './client-protocol.js'
import type { ResolvedClientServerOptions } from './client-server-options.js'
import { RETRY_AFTER_SHUTDOWN_MS, toWireError } from './client-wire-error.js'
import { FrameDecoder, NO_FRAME } from './frame-decoder.js'
import type { FrameEncoder } from './frame-encoder.js'
import { isNetError } from './net-error.js'
import { OutboundQueue } from './outbound-queue.js'

/** Frames before the hello is accepted are at most this large (a hello is a few short strings). */
export const HELLO_MAX_FRAME_BYTES = 64 * 1024
/** A client name longer than this is refused (it only goes to logs). */
export const CLIENT_NAME_LENGTH_MAX = 256
const SLAB_BYTES = 64 * 1024

/** What the server shares with each of its connections. */
export interface ClientConnectionHost {
  readonly node: TroupeNode
  readonly options: ResolvedClientServerOptions
  readonly encoder: FrameEncoder
  readonly longPolls: ClientLongPolls
  readonly logger: Logger
  /** Aborts when the server starts closing. */
  readonly shutdown: AbortSignal
  readonly counters: ClientServerCounters
  /** Whether `presented` is the server's token (true when it has none). */
  checkToken(presented: unknown): boolean
  /** The connection has nothing in flight any more (close() waits for all). */
  onIdle(connection: ClientConnection): void
  onClosed(connection: ClientConnection): void
}

/** Counters kept by the connections for the server's stats(). */
export interface ClientServerCounters {
  handshakesSucceeded: number
  handshakesFailed: number
  requests: number
  errorAnswers: number
  protocolErrors: number
  framesTooLarge: number
  idleTimeouts: number
  /** Times a connection stopped reading: its in-flight limit was reached or answers piled up. */
  readPauses: number
}

type Phase = 'hello' | 'open' | 'ending' | 'closed'

export class ClientConnection {
  readonly remoteAddress: string
  #phase: Phase = 'hello'
  readonly #socket: Socket
  readonly #host: ClientConnectionHost
  readonly #decoder: FrameDecoder
  readonly #outbound: OutboundQueue
  readonly #logger: Logger
  readonly #gone = new AbortController()
  #context: OpContext | undefined
  #inFlight = 0
  /** Frames were left in the decoder because #inFlight reached the limit. */
  #starved = false
  #paused = false
  #flushScheduled = false
  #awaitingDrain = false
  #timer: NodeJS.Timeout | undefined

  constructor(socket: Socket, host: ClientConnectionHost) {
    this.#socket = socket
    this.#host = host
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.#logger = host.logger.child({ remote: this.remoteAddress })
    this.#decoder = new FrameDecoder({ maxFrameBytes: Math.min(HELLO_MAX_FRAME_BYTES, host.options.maxFrameBytes) })
    // Answers are never dropped: the bound is kept by not reading (see above), not by refusing.
    this.#outbound = new OutboundQueue(host.encoder, { maxQueuedBytes: Number.MAX_SAFE_INTEGER, slabBytes: SLAB_BYTES })
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('drain', () => this.#onDrain())
    socket.on('timeout', () => this.#onIdleTimeout())
    socket.on('error', (error) => this.#logger.debug({ err: error }, 'client socket error'))
    socket.on('close', () => this.#onClose())
    this.#timer = setTimeout(() => this.#onHandshakeTimeout(), host.options.handshakeTimeoutMs)
  }

  get inFlight(): number {
    return this.#inFlight
  }

  get open(): boolean {
    return this.#phase === 'hello' || this.#phase === 'open'
  }

  /** Sends a connection-level error (`id: null`), then closes: the client learns why. */
  fail(code: ClientErrorCode, message: string, extra: Partial<ClientWireError> = {}): void {
    if (!this.open) return
    this.#appendAnswer({ id: null, ok: false, error: { code, message, ...extra } })
    this.#end()
  }

  /** Closes at once, dropping whatever is unwritten. */
  destroy(): void {
    this.#socket.destroy()
  }

  #onData(chunk: Buffer): void {
    if (!this.open) return // ending: read and drop, so the client's FIN reaches us and our last frame is not lost to a reset
    try {
      this.#decoder.push(chunk)
    } catch (error) {
      this.#onFrameError(error)
      return
    }
    this.#guarded(() => this.#pump())
  }

  /** Runs `step`; an exception (a bug: client input is checked) ends this connection, never the process. */
  #guarded(step: () => void): void {
    try {
      step()
    } catch (error) {
      this.#logger.error({ err: error }, 'client connection failed unexpectedly; closing it')
      this.#socket.destroy()
    }
  }

  /** Starts every buffered request while the in-flight limit allows. */
  #pump(): void {
    const limit = this.#host.options.maxInFlightPerConnection
    this.#starved = false
    while (this.open) {
      if (this.#inFlight >= limit) {
        this.#starved = this.#decoder.bufferedBytes > 0
        break
      }
      let message: unknown
      try {
        message = this.#decoder.next()
      } catch (error) {
        this.#onFrameError(error)
        return
      }
      if (message === NO_FRAME) break
      if (this.#phase === 'hello') this.#onHello(message)
      else this.#onRequest(message)
    }
    this.#updateReading()
  }

  #onHello(message: unknown): void {
    const counters = this.#host.counters
    if (!isMap(message) || message['op'] !== 'hello') {
      counters.handshakesFailed++
      this.fail('INVALID_ARGUMENT', "the first frame must be a hello: { op: 'hello', v: 1, token?, client?, forward? }")
      return
    }
    const { v: version, token, client, forward } = message
    if (!CLIENT_PROTOCOL_VERSIONS.includes(version as number)) {
      counters.handshakesFailed++
      const named = typeof version === 'number' ? String(version) : `of type ${typeof version}`
      this.fail('INVALID_ARGUMENT', `protocol version ${named} is not supported; this node speaks ${CLIENT_PROTOCOL_VERSIONS.join(', ')}`)
      return
    }
    if (!this.#host.checkToken(token)) {
      counters.handshakesFailed++
      this.#logger.debug('client hello refused: token missing or wrong')
      this.fail('UNAUTHORIZED', 'a valid token is required')
      return
    }
    const badField =
      client !== undefined && client !== null && (typeof client !== 'string' || client.length > CLIENT_NAME_LENGTH_MAX)
        ? `client must be a string of at most ${CLIENT_NAME_LENGTH_MAX} characters`
        : forward !== undefined && forward !== null && typeof forward !== 'boolean'
          ? 'forward must be a boolean'
          : undefined
    if (badField !== undefined) {
      counters.handshakesFailed++
      this.fail('INVALID_ARGUMENT', badField)
      return
    }
    counters.handshakesSucceeded++
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#phase = 'open'
    const { node, options } = this.#host
    this.#decoder.maxFrameBytes = options.maxFrameBytes
    this.#context = this.#opContext(forward === true)
    this.#socket.setTimeout(options.idleTimeoutMs)
    const welcome: ClientWelcome = {
      op: 'welcome',
      v: CLIENT_PROTOCOL_VERSION,
      node: node.id,
      shards: node.shardCount,
      maxFrameBytes: options.maxFrameBytes,
      maxInFlight: options.maxInFlightPerConnection,
    }
    this.#appendAnswer(welcome)
    this.#logger.debug({ client: typeof client === 'string' ? client : undefined, forward: forward === true }, 'client connected')
  }

  #opContext(forward: boolean): OpContext {
    const { node, longPolls, options, shutdown } = this.#host
    const queues: Queues = forward ? node.queues : node.direct.queues
    const kv: Kv = forward ? node.kv : node.direct.kv
    let signal: AbortSignal | undefined
    const gone = this.#gone.signal
    return {
      node,
      queues,
      kv,
      longPolls,
      // Made on first use: most connections never long-poll.
      get signal() {
        return (signal ??= AbortSignal.any([gone, shutdown]))
      },
      maxAnswerBytes: options.maxFrameBytes,
    }
  }

  #onRequest(message: unknown): void {
    if (!isMap(message)) return this.#violation('a request must be a msgpack map')
    const id = message['id']
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return this.#violation('a request must have a non-negative integer id')
    this.#host.counters.requests++
    if (this.#host.shutdown.aborted) {
      this.#answerError(id, { code: 'UNAVAILABLE', message: 'the node is shutting down', retryAfterMs: RETRY_AFTER_SHUTDOWN_MS })
      return
    }
    this.#inFlight++
    runOp(message, this.#context!).then(
      (result) => this.#guarded(() => this.#finish(id, result)),
      (error: unknown) => this.#guarded(() => this.#finishWithError(id, error)),
    )
  }

  // Answers of requests that finish after the connection started ending are dropped: the client was told why.
  #finish(id: number, result: unknown): void {
    this.#inFlight--
    if (this.open) {
      try {
        this.#appendAnswer({ id, ok: true, r: result })
      } catch (error) {
        this.#answerError(id, unencodableAnswer(error))
      }
    }
    this.#afterAnswer()
  }

  #finishWithError(id: number, error: unknown): void {
    this.#inFlight--
    if (this.open) {
      const wire = toWireError(error, () => this.#host.node.nodes())
      if (wire.code === 'INTERNAL') this.#logger.error({ err: error, id }, 'client request failed unexpectedly')
      this.#answerError(id, wire)
    }
    this.#afterAnswer()
  }

  #answerError(id: number, error: ClientWireError): void {
    this.#host.counters.errorAnswers++
    this.#appendAnswer({ id, ok: false, error })
  }

  #afterAnswer(): void {
    if (this.#starved && this.open) this.#pump()
    if (this.#inFlight === 0) this.#host.onIdle(this)
  }

  /** Queues a frame and schedules the turn's flush; throws FRAME_TOO_LARGE or MESSAGE_UNENCODABLE (nothing queued). */
  #appendAnswer(answer: unknown): void {
    if (this.#phase === 'closed') return
    this.#outbound.append(answer, 0)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      this.#flush()
    })
  }

  #flush(): void {
    if (this.#phase === 'closed' || this.#awaitingDrain || this.#socket.writableEnded) return
    const buffers = this.#outbound.take()
    if (buffers.length === 0) return
    let writable = true
    if (buffers.length > 1) this.#socket.cork()
    for (const buffer of buffers) writable = this.#socket.write(buffer)
    if (buffers.length > 1) this.#socket.uncork()
    if (!writable) this.#awaitingDrain = true
    if (this.#phase === 'ending') this.#socket.end()
    this.#updateReading()
  }

  #onDrain(): void {
    this.#awaitingDrain = false
    this.#flush()
    this.#updateReading()
  }

  /** Pauses the socket while the in-flight limit is reached or answers pile up; resumes otherwise. */
  #updateReading(): void {
    if (this.#phase === 'closed') return
    const pendingBytes = this.#outbound.queuedBytes + this.#socket.writableLength
    const hold = this.open && (this.#inFlight >= this.#host.options.maxInFlightPerConnection || pendingBytes > this.#host.options.outboundHighWaterBytes)
    if (hold && !this.#paused) {
      this.#paused = true
      this.#host.counters.readPauses++
      this.#socket.pause()
    } else if (!hold && this.#paused) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  #onFrameError(error: unknown): void {
    if (isNetError(error, 'FRAME_TOO_LARGE')) {
      this.#host.counters.framesTooLarge++
      this.#logger.debug({ err: error }, 'client frame over the limit')
      this.fail('PAYLOAD_TOO_LARGE', `${error.message}; closing the connection`)
      return
    }
    this.#violation(`malformed frame: ${error instanceof Error ? error.message : String(error)}`)
  }

  /** Bytes that are not a request of this protocol: the stream cannot be trusted any more. */
  #violation(message: string): void {
    this.#host.counters.protocolErrors++
    if (this.#phase === 'hello') this.#host.counters.handshakesFailed++
    this.#logger.debug({ reason: message }, 'closing client connection: protocol violation')
    this.fail('INVALID_ARGUMENT', `${message.slice(0, 256)}; closing the connection`)
  }

  /** Ends our side once the last frames are written; destroys after closeLingerMs if the client does not close. */
  #end(): void {
    if (!this.open) return
    this.#phase = 'ending'
    this.#socket.setTimeout(0)
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#socket.destroy(), this.#host.options.closeLingerMs)
    this.#gone.abort()
    // Keep reading (and dropping) so that the client's close is seen.
    if (this.#paused) {
      this.#paused = false
      this.#socket.resume()
    }
    if (!this.#flushScheduled) this.#socket.end()
  }

  #onHandshakeTimeout(): void {
    if (this.#phase !== 'hello') return
    this.#host.counters.handshakesFailed++
    this.#logger.debug('client sent no hello in time')
    this.#socket.destroy()
  }

  #onIdleTimeout(): void {
    if (this.#phase !== 'open') return
    if (this.#inFlight > 0) {
      // A long poll is not idleness: look again one period later.
      this.#socket.setTimeout(this.#host.options.idleTimeoutMs)
      return
    }
    this.#host.counters.idleTimeouts++
    this.#logger.debug('closing idle client connection')
    this.#end()
  }

  #onClose(): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    clearTimeout(this.#timer)
    this.#gone.abort()
    this.#outbound.clear()
    this.#host.onClosed(this)
  }
}

/** A hello's token check: both sides hashed, so the comparison takes the same time whatever was sent. */
export function tokenChecker(token: string | undefined): (presented: unknown) => boolean {
  if (token === undefined) return () => true
  const expected = digest(token)
  return (presented) => {
    const text = typeof presented === 'string' ? presented : ''
    return timingSafeEqual(digest(text), expected) && typeof presented === 'string'
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

function unencodableAnswer(error: unknown): ClientWireError {
  if (isNetError(error, 'FRAME_TOO_LARGE')) return { code: 'PAYLOAD_TOO_LARGE', message: `the answer is over the frame limit: ${error.message}` }
  return { code: 'INTERNAL', message: 'the answer could not be encoded' }
}
