// Listens on the peer address, runs the handshake on every accepted socket and
// hands verified connections to `onConnection`.
//
// Unauthenticated sockets are what an attacker controls, so they are bounded:
// at most maxPendingHandshakes at once (more are destroyed on accept), each for
// at most handshakeTimeoutMs, each reading frames of at most 1 KiB. A server
// owns what it accepted: close() ends pending handshakes and the connections
// it handed over that are still open.
import { createServer, type Server, type Socket } from 'node:net'
import type { Logger } from 'pino'
import { silentLogger } from './logger.js'
import { NetError, type RemoteRefusal } from './net-error.js'
import { parsePeerAddress, type PeerAddress } from './peer-address.js'
import { PeerConnection } from './peer-connection.js'
import { resolveConnectionOptions, type PeerConnectionOptions } from './peer-connection-options.js'

export interface PeerServerOptions extends PeerConnectionOptions {
  /** `host:port` to listen on (port 0: any free port; see `address`). */
  listen: string
  /** Verified connections; the callback owns them (call start() on each). */
  onConnection(connection: PeerConnection): void
  /** Returns a reason to refuse a remote node id during its handshake, or undefined to accept it. */
  checkRemote?: ((remoteId: number) => RemoteRefusal | undefined) | undefined
  /** Handshakes that failed (for metrics and tests; the failure is logged either way). */
  onHandshakeFailed?: ((error: NetError, remoteAddress: string) => void) | undefined
  /** At most this many sockets may be handshaking at once. */
  maxPendingHandshakes?: number
}

export const peerServerDefaults = {
  maxPendingHandshakes: 64,
} as const

export interface PeerServerStats {
  accepted: number
  /** Destroyed on accept because maxPendingHandshakes were already pending. */
  refusedOverLimit: number
  handshakesFailed: number
  handshakesSucceeded: number
  pendingHandshakes: number
  openConnections: number
}

export class PeerServer {
  readonly #server: Server
  readonly #options: PeerServerOptions
  readonly #maxPending: number
  readonly #logger: Logger
  readonly #pending = new Set<Socket>()
  readonly #connections = new Set<PeerConnection>()
  #address: PeerAddress | undefined
  #closed = false
  #accepted = 0
  #refusedOverLimit = 0
  #failed = 0
  #succeeded = 0

  /** Starts listening; resolves once bound. */
  static async listen(options: PeerServerOptions): Promise<PeerServer> {
    const server = new PeerServer(options)
    await server.#bind(parsePeerAddress(options.listen))
    return server
  }

  private constructor(options: PeerServerOptions) {
    resolveConnectionOptions(options) // validate once, up front
    this.#options = options
    this.#maxPending = options.maxPendingHandshakes ?? peerServerDefaults.maxPendingHandshakes
    if (!Number.isSafeInteger(this.#maxPending) || this.#maxPending < 1) {
      throw new NetError('INVALID_CONFIG', `maxPendingHandshakes must be a positive integer, got ${this.#maxPending}`)
    }
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'peer-server', node: options.localId })
    this.#server = createServer({ noDelay: true, keepAlive: true, pauseOnConnect: false }, (socket) => this.#onSocket(socket))
    // An accept error (e.g. EMFILE) must not take the node down; it is retried by the next connection.
    this.#server.on('error', (error) => this.#logger.error({ err: error }, 'peer server error'))
  }

  /** The bound address (the actual port when listening on port 0). */
  get address(): PeerAddress {
    if (this.#address === undefined) throw new NetError('CLOSED', 'the peer server is not listening')
    return this.#address
  }

  get stats(): PeerServerStats {
    return {
      accepted: this.#accepted,
      refusedOverLimit: this.#refusedOverLimit,
      handshakesFailed: this.#failed,
      handshakesSucceeded: this.#succeeded,
      pendingHandshakes: this.#pending.size,
      openConnections: this.#connections.size,
    }
  }

  /** Stops listening and closes every pending handshake and every connection this server accepted. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const socket of this.#pending) socket.destroy()
    for (const connection of this.#connections) connection.close()
    await stopped
  }

  #bind(address: PeerAddress): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(new NetError('LISTEN_FAILED', `cannot listen on ${address.host}:${address.port}: ${error.message}`, { cause: error }))
      this.#server.once('error', onError)
      this.#server.listen({ host: address.host, port: address.port }, () => {
        this.#server.off('error', onError)
        const bound = this.#server.address()
        this.#address = typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : address
        if (this.#options.secret === undefined) {
          this.#logger.warn({ port: this.#address.port }, 'peer server has no cluster secret: peers are NOT authenticated (set TROUPE_CLUSTER_SECRET)')
        }
        resolve()
      })
    })
  }

  #onSocket(socket: Socket): void {
    this.#accepted++
    if (this.#closed || this.#pending.size >= this.#maxPending) {
      this.#refusedOverLimit++
      socket.destroy()
      return
    }
    const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.#pending.add(socket)
    PeerConnection.open(socket, this.#options, { role: 'acceptor', checkRemote: this.#options.checkRemote }).then(
      (connection) => {
        this.#pending.delete(socket)
        this.#succeeded++
        if (this.#closed) {
          connection.close()
          return
        }
        this.#connections.add(connection)
        socket.once('close', () => this.#connections.delete(connection))
        this.#options.onConnection(connection)
      },
      (error: NetError) => {
        this.#pending.delete(socket)
        this.#failed++
        this.#options.onHandshakeFailed?.(error, remoteAddress)
      },
    )
  }
}
