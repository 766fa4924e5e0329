// One connection per node address, opened on first use. A connection that
// dies is dropped from the pool; the next call to that address opens a fresh
// one (after the caller's backoff), which is the SDK's reconnect.
import type { ResolvedClientOptions } from './client-options.js'
import { ClientConnection } from './client-connection.js'
import { TroupeClientError } from './client-error.js'

/** Distinct node addresses the pool keeps connections to (a cluster larger than this is not expected). */
export const POOL_ADDRESSES_MAX = 1024

export class ConnectionPool {
  readonly #options: ResolvedClientOptions
  readonly #onLost: (address: string, reason: TroupeClientError) => void
  readonly #open = new Map<string, ClientConnection>()
  readonly #opening = new Map<string, Promise<ClientConnection>>()
  #closed = false

  constructor(options: ResolvedClientOptions, onLost: (address: string, reason: TroupeClientError) => void) {
    this.#options = options
    this.#onLost = onLost
  }

  /** Addresses with an open connection. */
  openAddresses(): string[] {
    return [...this.#open.keys()]
  }

  /** The open connection to `address`, if there is one (the fast path of every call). */
  openConnection(address: string): ClientConnection | undefined {
    const open = this.#open.get(address)
    return open?.isOpen ? open : undefined
  }

  get(address: string): Promise<ClientConnection> {
    if (this.#closed) return Promise.reject(new TroupeClientError('CLOSED', 'the client is closed'))
    const open = this.#open.get(address)
    if (open?.isOpen) return Promise.resolve(open)
    const opening = this.#opening.get(address)
    if (opening) return opening
    if (this.#open.size + this.#opening.size >= POOL_ADDRESSES_MAX) {
      return Promise.reject(new TroupeClientError('CONNECTION_FAILED', `the client already holds connections to ${POOL_ADDRESSES_MAX} addresses`))
    }
    const promise = this.#dial(address)
    this.#opening.set(address, promise)
    return promise
  }

  closeAll(): void {
    this.#closed = true
    for (const connection of this.#open.values()) connection.close(new TroupeClientError('CLOSED', 'the client is closed'))
    this.#open.clear()
  }

  async #dial(address: string): Promise<ClientConnection> {
    const options = this.#options
    try {
      const connection = await ClientConnection.open({
        address,
        token: options.token,
        clientName: options.clientName,
        connectTimeoutMs: options.connectTimeoutMs,
        maxInFlight: options.maxInFlightPerConnection,
        maxQueued: options.maxQueuedPerConnection,
        keepAliveIntervalMs: options.keepAliveIntervalMs,
        livenessTimeoutMs: options.livenessTimeoutMs,
        logger: options.logger,
        onClose: (closed, reason) => {
          if (this.#open.get(address) === closed) this.#open.delete(address)
          if (!this.#closed) this.#onLost(address, reason)
        },
      })
      if (this.#closed) {
        connection.close(new TroupeClientError('CLOSED', 'the client is closed'))
        throw new TroupeClientError('CLOSED', 'the client is closed')
      }
      this.#open.set(address, connection)
      options.logger?.debug({ address, node: connection.welcome?.node }, 'client connected')
      return connection
    } finally {
      this.#opening.delete(address)
    }
  }
}
