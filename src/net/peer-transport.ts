// The node's whole peer network: one PeerServer on the peer address and one
// PeerLink per remote node, with the one-connection-per-pair rule applied on
// both ends (the lower id dials; the server refuses, during the handshake,
// any node that is unknown or that this node should be dialing itself, and
// takes such a connection as a knock: dial that node now).
import type { Logger } from 'pino'
import type { BackoffOptions } from './backoff.js'
import { silentLogger } from './logger.js'
import { NetError, type NodeRefusalCode, type RemoteRefusal } from './net-error.js'
import type { PeerAddress } from './peer-address.js'
import type { PeerConnection } from './peer-connection.js'
import type { PeerConnectionOptions } from './peer-connection-options.js'
import { checkNodeId } from './peer-handshake.js'
import { PeerLink, type PeerLinkEvent } from './peer-link.js'
import { PeerServer, type PeerServerStats } from './peer-server.js'

export interface PeerTransportOptions extends PeerConnectionOptions {
  /** The peer address to listen on (`--peer`). */
  listen: string
  /** The other members: node id → peer address. */
  peers?: ReadonlyMap<number, string>
  /** Messages from any peer, in order per peer, in batches. */
  onMessages(remoteId: number, messages: unknown[]): void
  onLinkState?: ((event: PeerLinkEvent) => void) | undefined
  /**
   * A verified connection from a node that is not a peer (yet): a node that
   * joins the cluster through this one. Without it, unknown nodes are
   * refused during the handshake.
   */
  onJoinConnection?: ((connection: PeerConnection) => void) | undefined
  /** Nodes removed from the cluster: refused during the handshake with REMOVED, so that they learn it. */
  isRemoved?: ((remoteId: number) => boolean) | undefined
  /** A peer refused this node for good: removed from the cluster (see isRemoved), or serving reads differently (see PeerLinkOptions.onRefusal). */
  onRefusal?: ((remoteId: number, code: NodeRefusalCode, message: string) => void) | undefined
  maxPendingHandshakes?: number
  connectTimeoutMs?: number
  backoff?: Partial<BackoffOptions>
  random?: () => number
  schedule?: (callback: () => void, delayMs: number) => () => void
}

/** At most this many peers per node (a bound on links and connections). */
export const PEER_TRANSPORT_MAX_PEERS = 256

export class PeerTransport {
  readonly localId: number
  readonly #options: PeerTransportOptions
  readonly #links = new Map<number, PeerLink>()
  readonly #logger: Logger
  #server: PeerServer | undefined
  #closed = false

  /** Listens, then starts a link to every peer. */
  static async start(options: PeerTransportOptions): Promise<PeerTransport> {
    const transport = new PeerTransport(options)
    transport.#server = await PeerServer.listen({
      ...options,
      checkRemote: (remoteId) => transport.#checkInbound(remoteId),
      onConnection: (connection) => {
        const link = transport.#links.get(connection.remoteId)
        if (link !== undefined) link.attach(connection)
        else if (options.onJoinConnection !== undefined) options.onJoinConnection(connection)
        else connection.close(new NetError('UNEXPECTED_PEER', `node ${connection.remoteId} is no longer a peer`))
      },
    })
    for (const [id, address] of options.peers ?? []) transport.addPeer(id, address)
    return transport
  }

  private constructor(options: PeerTransportOptions) {
    checkNodeId(options.localId, 'localId')
    this.localId = options.localId
    this.#options = options
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'peer-transport', node: options.localId })
  }

  /** The bound peer address. */
  get address(): PeerAddress {
    if (this.#server === undefined) throw new NetError('CLOSED', 'the transport is not started')
    return this.#server.address
  }

  get serverStats(): PeerServerStats | undefined {
    return this.#server?.stats
  }

  get peerIds(): number[] {
    return [...this.#links.keys()]
  }

  link(remoteId: number): PeerLink | undefined {
    return this.#links.get(remoteId)
  }

  /** Adds a peer and starts its link; for a known peer, updates the address used by its next dial. */
  addPeer(remoteId: number, address: string): void {
    if (this.#closed) throw new NetError('CLOSED', 'the transport is closed')
    checkNodeId(remoteId, 'remoteId')
    if (remoteId === this.localId) throw new NetError('INVALID_CONFIG', 'a node is not its own peer')
    const existing = this.#links.get(remoteId)
    if (existing !== undefined) {
      existing.setAddress(address)
      return
    }
    if (this.#links.size >= PEER_TRANSPORT_MAX_PEERS) throw new NetError('INVALID_CONFIG', `at most ${PEER_TRANSPORT_MAX_PEERS} peers`)
    const link = new PeerLink({
      ...this.#options,
      remoteId,
      address,
      onMessages: this.#options.onMessages,
      onStateChange: this.#options.onLinkState,
    })
    this.#links.set(remoteId, link)
    link.start()
    this.#logger.debug({ remoteId, address, dials: link.dials }, 'peer added')
  }

  removePeer(remoteId: number): void {
    const link = this.#links.get(remoteId)
    if (link === undefined) return
    this.#links.delete(remoteId)
    link.close()
  }

  /** Sends to one peer; false when dropped (unknown peer, not connected, over the bound). */
  send(remoteId: number, message: unknown): boolean {
    return this.#links.get(remoteId)?.send(message) ?? false
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const link of this.#links.values()) link.close()
    this.#links.clear()
    await this.#server?.close()
  }

  #checkInbound(remoteId: number): RemoteRefusal | undefined {
    const link = this.#links.get(remoteId)
    if (link === undefined) {
      if (this.#options.isRemoved?.(remoteId) === true) return { code: 'REMOVED', reason: `node ${remoteId} was removed from this cluster` }
      return this.#options.onJoinConnection !== undefined ? undefined : 'not a peer of this node'
    }
    if (link.dials) {
      // The peer knocked (PeerLink.#knock): it waits for this node to dial.
      link.redialNow()
      return { code: 'KNOCK', reason: `node ${this.localId} dials node ${remoteId} (the lower id dials); it dials now` }
    }
    return undefined
  }
}
