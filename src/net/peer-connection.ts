// One TCP connection to one peer node: the handshake, then framed messages
// both ways.
//
// Life of a connection:
//   handshaking → (PeerConnection.open resolves) → ready → start(handlers) → open → closed
// Until the handshake has verified the peer, nothing it sent reaches a caller:
// frames are read one at a time under a 1 KiB limit and fed only to the
// handshake. Frames that follow the handshake in the same chunk stay in the
// decoder, and the socket is paused, until the owner calls `start`.
//
// Outbound: `send` encodes at once into a bounded queue (bytes queued here plus
// bytes the socket still buffers stay under maxQueuedBytes) and a flush runs
// once per event-loop turn, writing everything queued since the last one. A
// send over the bound returns false: the caller drops the message (Raft
// tolerates loss) instead of buffering for a slow or dead peer.
//
// Liveness: with nothing else to send, a zero-length heartbeat frame goes out
// every heartbeatIntervalMs; a connection that hears nothing for
// idleTimeoutMs is closed with IDLE_TIMEOUT (TCP keep-alive alone takes far
// longer to notice a vanished peer).
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { FrameDecoder, NO_FRAME } from './frame-decoder.js'
import { FrameEncoder } from './frame-encoder.js'
import { NetError, isNetError, type RemoteRefusal } from './net-error.js'
import { OutboundQueue } from './outbound-queue.js'
import { resolveConnectionOptions, type PeerConnectionOptions, type ResolvedConnectionOptions } from './peer-connection-options.js'
import { HANDSHAKE_MAX_FRAME_BYTES, PeerHandshake, type PeerIdentity, type PeerRole } from './peer-handshake.js'

/** Per-connection choices of one handshake (the rest comes from PeerConnectionOptions). */
export interface HandshakeSideOptions {
  role: PeerRole
  expectedRemoteId?: number | undefined
  checkRemote?: ((remoteId: number) => RemoteRefusal | undefined) | undefined
  /** For tests only: speak another protocol version. */
  protocolVersion?: number | undefined
}

export interface PeerConnectionHandlers {
  /** Messages in the order the peer sent them, in batches of whatever one read brought. */
  onMessages(remoteId: number, messages: unknown[]): void
  /** Called once, after the last onMessages, with why the connection ended. */
  onClose?(error: NetError): void
}

export interface PeerConnectionStats {
  messagesQueued: number
  messagesReceived: number
  /** Sends refused because the outbound bound was reached. */
  messagesDropped: number
  heartbeatsReceived: number
  bytesWritten: number
  bytesRead: number
}

// 'ready': handshake done, start() not called yet (the socket is paused).
type Phase = 'ready' | 'open' | 'closed'

export class PeerConnection {
  readonly role: PeerRole
  readonly remoteId: number
  readonly remoteClusterId: string | null
  readonly authenticated: boolean
  readonly remoteAddress: string
  readonly #socket: Socket
  readonly #options: ResolvedConnectionOptions
  readonly #decoder: FrameDecoder
  readonly #outbound: OutboundQueue
  readonly #logger: Logger
  #phase: Phase = 'ready'
  #handlers: PeerConnectionHandlers | undefined
  #closeReason: NetError | undefined
  #flushScheduled = false
  #awaitingDrain = false
  #heartbeatTimer: NodeJS.Timeout | undefined
  #lastReceivedMs = performance.now()
  #sentSinceHeartbeat = false
  #messagesQueued = 0
  #messagesReceived = 0
  #messagesDropped = 0

  /**
   * Runs the handshake on a connected socket and resolves once the peer is
   * verified. On failure the socket is closed (after telling the peer why,
   * when the failure is ours to report) and the promise rejects with a
   * NetError.
   */
  static open(socket: Socket, options: PeerConnectionOptions, side: HandshakeSideOptions): Promise<PeerConnection> {
    let resolved: ResolvedConnectionOptions
    try {
      resolved = resolveConnectionOptions(options)
    } catch (error) {
      socket.destroy()
      return Promise.reject(asNetError(error))
    }
    return runHandshake(socket, resolved, side)
  }

  /** @internal Use PeerConnection.open. */
  constructor(socket: Socket, options: ResolvedConnectionOptions, role: PeerRole, peer: PeerIdentity, decoder: FrameDecoder, encoder: FrameEncoder) {
    this.#socket = socket
    this.#options = options
    this.role = role
    this.remoteId = peer.remoteId
    this.remoteClusterId = peer.remoteClusterId
    this.authenticated = peer.authenticated
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.#decoder = decoder
    this.#outbound = new OutboundQueue(encoder, { maxQueuedBytes: options.maxQueuedBytes, slabBytes: options.slabBytes })
    this.#logger = options.logger.child({ remoteId: peer.remoteId, role })
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => this.#close(new NetError('CONNECTION_LOST', `socket error: ${error.message}`, { cause: error })))
    socket.on('close', () => this.#close(new NetError('CONNECTION_LOST', 'the peer closed the connection')))
    socket.on('drain', () => {
      this.#awaitingDrain = false
      this.#flush()
    })
  }

  get open(): boolean {
    return this.#phase === 'ready' || this.#phase === 'open'
  }

  /** Why the connection closed, once it has. */
  get closeReason(): NetError | undefined {
    return this.#closeReason
  }

  /** Outbound bytes not yet accepted by the kernel (queued here and in the socket). */
  get pendingBytes(): number {
    return this.#outbound.queuedBytes + this.#socket.writableLength
  }

  get stats(): PeerConnectionStats {
    return {
      messagesQueued: this.#messagesQueued,
      messagesReceived: this.#messagesReceived,
      messagesDropped: this.#messagesDropped,
      heartbeatsReceived: this.#decoder.heartbeatsReceived,
      bytesWritten: this.#socket.bytesWritten,
      bytesRead: this.#socket.bytesRead,
    }
  }

  /**
   * Starts delivering messages (those that arrived since the handshake first).
   * Call once. If the connection closed in the meantime, onClose is called.
   */
  start(handlers: PeerConnectionHandlers): void {
    if (this.#handlers !== undefined) throw new NetError('INVALID_CONFIG', 'start() was already called on this connection')
    this.#handlers = handlers
    if (this.#phase === 'closed') {
      const reason = this.#closeReason!
      queueMicrotask(() => handlers.onClose?.(reason))
      return
    }
    this.#phase = 'open'
    this.#lastReceivedMs = performance.now()
    this.#heartbeatTimer = setInterval(() => this.#onHeartbeatTick(), this.#options.heartbeatIntervalMs)
    this.#heartbeatTimer.unref()
    this.#socket.resume()
    this.#deliverBuffered()
  }

  /**
   * Queues one message; it is written with everything else sent during this
   * event-loop turn. Returns false when it was dropped: the connection is
   * closed, or the outbound bound is reached. Throws FRAME_TOO_LARGE or
   * MESSAGE_UNENCODABLE for a message that can never be sent.
   */
  send(message: unknown): boolean {
    if (!this.open) return false
    if (!this.#outbound.append(message, this.#socket.writableLength)) {
      this.#messagesDropped++
      return false
    }
    this.#messagesQueued++
    this.#sentSinceHeartbeat = true
    this.#scheduleFlush()
    return true
  }

  /** Closes at once; queued outbound messages are dropped. */
  close(reason: NetError = new NetError('CLOSED', 'connection closed locally')): void {
    this.#close(reason)
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === 'closed') return
    this.#lastReceivedMs = performance.now()
    try {
      this.#decoder.push(chunk)
    } catch (error) {
      this.#close(asNetError(error))
      return
    }
    if (this.#phase === 'open') this.#deliverBuffered()
  }

  #deliverBuffered(): void {
    const messages: unknown[] = []
    let failure: NetError | undefined
    try {
      for (let message = this.#decoder.next(); message !== NO_FRAME; message = this.#decoder.next()) messages.push(message)
    } catch (error) {
      failure = asNetError(error)
    }
    // Frames that preceded the bad one were sound: deliver them, then close.
    if (messages.length > 0) {
      this.#messagesReceived += messages.length
      this.#handlers!.onMessages(this.remoteId, messages)
    }
    if (failure !== undefined) {
      this.#logger.warn({ code: failure.code, remoteAddress: this.remoteAddress }, `closing peer connection: ${failure.message}`)
      this.#close(failure)
    }
  }

  #onHeartbeatTick(): void {
    if (this.#phase !== 'open') return
    if (performance.now() - this.#lastReceivedMs > this.#options.idleTimeoutMs) {
      this.#close(new NetError('IDLE_TIMEOUT', `nothing received from node ${this.remoteId} for ${this.#options.idleTimeoutMs} ms`))
      return
    }
    if (!this.#sentSinceHeartbeat && this.#outbound.appendHeartbeat(this.#socket.writableLength)) this.#scheduleFlush()
    this.#sentSinceHeartbeat = false
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      this.#flush()
    })
  }

  #flush(): void {
    if (!this.open || this.#awaitingDrain) return
    const buffers = this.#outbound.take()
    if (buffers.length === 0) return
    let writable = true
    if (buffers.length > 1) this.#socket.cork()
    for (const buffer of buffers) writable = this.#socket.write(buffer)
    if (buffers.length > 1) this.#socket.uncork()
    // Later sends wait in the queue (within the bound) until the socket drains.
    if (!writable) this.#awaitingDrain = true
  }

  #close(reason: NetError): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    this.#closeReason = reason
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer)
    this.#outbound.clear()
    this.#socket.destroy()
    if (reason.code !== 'CLOSED') this.#logger.info({ code: reason.code }, `peer connection closed: ${reason.message}`)
    const handlers = this.#handlers
    if (handlers?.onClose !== undefined) queueMicrotask(() => handlers.onClose!(reason))
  }
}

function runHandshake(socket: Socket, options: ResolvedConnectionOptions, side: HandshakeSideOptions): Promise<PeerConnection> {
  return new Promise((resolve, reject) => {
    const logger = options.logger.child({ role: side.role, remoteAddress: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}` })
    let handshake: PeerHandshake
    try {
      handshake = new PeerHandshake({
        role: side.role,
        localId: options.localId,
        clusterId: options.clusterId,
        secret: options.secret,
        reads: options.reads,
        expectedRemoteId: side.expectedRemoteId,
        checkRemote: side.checkRemote,
        version: side.protocolVersion,
      })
    } catch (error) {
      socket.destroy()
      reject(asNetError(error))
      return
    }
    const decoder = new FrameDecoder({ maxFrameBytes: HANDSHAKE_MAX_FRAME_BYTES })
    const encoder = new FrameEncoder({ maxFrameBytes: options.maxFrameBytes })
    let settled = false

    const cleanup = (): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
    }
    const fail = (error: NetError, farewell?: Buffer): void => {
      if (settled) return
      settled = true
      cleanup()
      // A knock's refusal is the expected answer on both sides (see PeerLink.redialNow).
      const knock = error.code === 'KNOCK' || error.remoteCode === 'KNOCK'
      logger[knock ? 'debug' : 'warn']({ code: error.code, remoteCode: error.remoteCode }, `peer handshake failed: ${error.message}`)
      if (farewell === undefined || socket.destroyed) {
        socket.destroy()
      } else {
        // Give the peer a moment to read why, but never wait on it for long.
        socket.on('error', () => socket.destroy())
        socket.end(farewell)
        setTimeout(() => socket.destroy(), options.closeLingerMs).unref()
      }
      reject(error)
    }
    const onData = (chunk: Buffer): void => {
      try {
        decoder.push(chunk)
        for (;;) {
          const message = decoder.next()
          if (message === NO_FRAME) return
          const step = handshake.receive(message)
          const reply = step.send.length === 0 ? undefined : encoder.encodeAll(step.send)
          if (step.status === 'failed') return fail(step.error, reply)
          if (reply !== undefined) socket.write(reply)
          if (step.status === 'done') {
            settled = true
            cleanup()
            // Hold what followed the handshake until the owner calls start().
            socket.pause()
            decoder.maxFrameBytes = options.maxFrameBytes
            const connection = new PeerConnection(socket, options, side.role, step.peer, decoder, encoder)
            const level = step.peer.authenticated ? 'debug' : 'info'
            logger[level](
              { remoteId: step.peer.remoteId, authenticated: step.peer.authenticated },
              step.peer.authenticated ? 'peer connected' : 'peer connected WITHOUT authentication (no cluster secret)',
            )
            resolve(connection)
            return
          }
        }
      } catch (error) {
        fail(asNetError(error))
      }
    }
    const onError = (error: Error): void => fail(new NetError('CONNECTION_LOST', `socket error during the handshake: ${error.message}`, { cause: error }))
    const onClose = (): void => fail(new NetError('CONNECTION_LOST', 'the peer closed the connection during the handshake'))
    const timer = setTimeout(
      () => fail(new NetError('HANDSHAKE_TIMEOUT', `the handshake did not finish within ${options.handshakeTimeoutMs} ms`)),
      options.handshakeTimeoutMs,
    )

    socket.setNoDelay(true)
    socket.setKeepAlive(true, options.keepAliveDelayMs)
    socket.on('data', onData)
    socket.on('error', onError)
    socket.on('close', onClose)
    socket.write(encoder.encode(handshake.start()))
  })
}

function asNetError(error: unknown): NetError {
  if (isNetError(error)) return error
  return new NetError('CONNECTION_LOST', error instanceof Error ? error.message : String(error), { cause: error })
}
