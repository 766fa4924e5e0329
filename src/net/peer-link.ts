// One logical link to one remote node, kept up for as long as the link lives.
// The node's PeerLink actor wraps this class; it knows nothing of the runtime.
//
// One connection per peer pair: the node with the lower id dials, the other
// only accepts (see README.md). A dialing link redials after every failure
// or loss, waiting an exponential, capped, jittered delay that resets once a
// connection is up. An accepting link waits for the transport to `attach` the
// inbound connection; a newer inbound connection replaces an older one (the
// dialer restarted and the old socket has not noticed yet).
//
// `send` never queues while disconnected: it returns false and the message is
// gone. Raft retransmits what matters; buffering for a peer that may be down
// for minutes would only grow memory and deliver stale messages.
import type { Logger } from 'pino'
import { backoffDefaults, backoffDelayMs, checkBackoffOptions, type BackoffOptions } from './backoff.js'
import { dialPeer } from './dial-peer.js'
import { silentLogger } from './logger.js'
import { NetError, refusalCode, type NodeRefusalCode } from './net-error.js'
import type { PeerConnection } from './peer-connection.js'
import type { PeerConnectionOptions } from './peer-connection-options.js'
import { checkNodeId } from './peer-handshake.js'

export type PeerLinkState =
  | 'idle' // not started
  | 'connecting' // dialing and handshaking
  | 'connected'
  | 'backoff' // waiting before the next dial
  | 'waiting' // accepting side: waiting for the peer to dial in
  | 'closed'

export interface PeerLinkEvent {
  remoteId: number
  state: PeerLinkState
  /**
   * Retries since the link was last connected; in a 'backoff' event, the
   * 0-based number of the retry that `delayMs` delays.
   */
  attempt: number
  /** For 'backoff': how long until the next dial. */
  delayMs?: number
  /** What ended the previous state: a failed dial or a lost connection. */
  error?: NetError
}

export interface PeerLinkStats {
  messagesSent: number
  /** Sends dropped because no connection was up. */
  droppedDisconnected: number
  /** Sends dropped because the connection's outbound bound was reached. */
  droppedOverflow: number
  connects: number
  dialFailures: number
}

export interface PeerLinkOptions extends PeerConnectionOptions {
  remoteId: number
  /** The remote node's peer address; needed when this side dials. */
  address?: string | undefined
  /** Whether this side dials. Default: the one-connection rule, localId < remoteId. */
  dial?: boolean
  connectTimeoutMs?: number
  backoff?: Partial<BackoffOptions>
  /** Values in [0, 1) for jitter; default Math.random. */
  random?: () => number
  /** Runs `callback` after `delayMs` and returns a cancel function; default setTimeout. A test hook. */
  schedule?: (callback: () => void, delayMs: number) => () => void
  /** Messages from the remote node, in order, in batches. */
  onMessages(remoteId: number, messages: unknown[]): void
  onStateChange?: ((event: PeerLinkEvent) => void) | undefined
  /**
   * A dial or a knock was refused for a reason the node acts on (either
   * side may refuse): this node was removed from the cluster (REMOVED), or
   * the two serve linearizable reads differently (READS_MISMATCH).
   */
  onRefusal?: ((remoteId: number, code: NodeRefusalCode, message: string) => void) | undefined
}

/** How often an accepting link that waits for its peer knocks (see #knock), before jitter. */
const knockEveryMs = 1_000

/** The least time between two dials that knocks bring forward (see redialNow). */
const redialNowGapMs = 100

export class PeerLink {
  readonly remoteId: number
  readonly dials: boolean
  readonly #options: PeerLinkOptions
  readonly #backoff: BackoffOptions
  readonly #random: () => number
  readonly #schedule: (callback: () => void, delayMs: number) => () => void
  readonly #logger: Logger
  #address: string | undefined
  #state: PeerLinkState = 'idle'
  #connection: PeerConnection | undefined
  #attempt = 0
  #cancelRedial: (() => void) | undefined
  /** When this link last started a dial (performance.now()), to bound redialNow. */
  #lastDialAt = Number.NEGATIVE_INFINITY
  /** Cancels the next knock of an accepting link (see #knock). */
  #cancelKnock: (() => void) | undefined
  #dialAbort: AbortController | undefined
  readonly #stats: PeerLinkStats = { messagesSent: 0, droppedDisconnected: 0, droppedOverflow: 0, connects: 0, dialFailures: 0 }

  constructor(options: PeerLinkOptions) {
    checkNodeId(options.localId, 'localId')
    checkNodeId(options.remoteId, 'remoteId')
    if (options.localId === options.remoteId) throw new NetError('INVALID_CONFIG', 'a link cannot lead to its own node')
    this.remoteId = options.remoteId
    this.dials = options.dial ?? options.localId < options.remoteId
    if (this.dials && options.address === undefined) throw new NetError('INVALID_CONFIG', `the link to node ${options.remoteId} dials and needs its address`)
    this.#options = options
    this.#address = options.address
    this.#backoff = checkBackoffOptions({ ...backoffDefaults, ...options.backoff })
    this.#random = options.random ?? Math.random
    this.#schedule = options.schedule ?? defaultSchedule
    this.#logger = (options.logger ?? silentLogger()).child({ component: 'peer-link', node: options.localId, remoteId: options.remoteId })
  }

  get state(): PeerLinkState {
    return this.#state
  }

  get connected(): boolean {
    return this.#state === 'connected'
  }

  /** The live connection, if any (for stats). */
  get connection(): PeerConnection | undefined {
    return this.#connection
  }

  get stats(): PeerLinkStats {
    return { ...this.#stats }
  }

  /** Dials (dialing side) or starts waiting for the peer (accepting side). */
  start(): void {
    if (this.#state !== 'idle') return
    if (this.dials) this.#dial()
    else this.#wait()
  }

  /**
   * The node this link dials has knocked (it dialed in, which the
   * one-connection rule refuses; see #knock): it has just started, or lost
   * its link to this node. If this link is waiting out a backoff delay, it
   * dials now instead: after a long outage that delay reaches maxDelayMs,
   * and the restarted node would wait that long for this link. At most one
   * early dial per redialNowGapMs, so knocks cannot make it dial in a loop.
   */
  redialNow(): void {
    if (!this.dials || this.#state !== 'backoff') return
    if (performance.now() - this.#lastDialAt < redialNowGapMs) return
    this.#cancelRedial?.()
    this.#dial()
  }

  /** The peer moved; used from the next dial on. */
  setAddress(address: string): void {
    this.#address = address
  }

  /**
   * Hands over an inbound connection from this link's remote node (accepting
   * side). It replaces the current connection, if any.
   */
  attach(connection: PeerConnection): void {
    if (connection.remoteId !== this.remoteId) {
      connection.close(new NetError('UNEXPECTED_PEER', `connection from node ${connection.remoteId} offered to the link of node ${this.remoteId}`))
      return
    }
    if (this.#state === 'closed') {
      connection.close()
      return
    }
    if (this.dials) {
      connection.close(new NetError('UNEXPECTED_PEER', `node ${this.remoteId} has the higher id: this node dials it and accepts no connection from it`))
      return
    }
    this.#adopt(connection)
  }

  /** Sends one message; false when it was dropped (not connected, or over the outbound bound). */
  send(message: unknown): boolean {
    const connection = this.#connection
    if (connection === undefined || !connection.open) {
      this.#stats.droppedDisconnected++
      return false
    }
    if (!connection.send(message)) {
      this.#stats.droppedOverflow++
      return false
    }
    this.#stats.messagesSent++
    return true
  }

  close(): void {
    if (this.#state === 'closed') return
    this.#cancelRedial?.()
    this.#cancelRedial = undefined
    this.#cancelKnock?.()
    this.#cancelKnock = undefined
    this.#dialAbort?.abort()
    this.#dialAbort = undefined
    const connection = this.#connection
    this.#connection = undefined
    connection?.close()
    this.#setState('closed')
  }

  #dial(): void {
    this.#cancelRedial = undefined
    if (this.#state === 'closed') return
    this.#lastDialAt = performance.now()
    this.#setState('connecting')
    const abort = new AbortController()
    this.#dialAbort = abort
    dialPeer(this.#address!, {
      ...this.#options,
      expectedRemoteId: this.remoteId,
      signal: abort.signal,
    }).then(
      (connection) => {
        if (this.#dialAbort === abort) this.#dialAbort = undefined
        if (this.#state === 'closed') connection.close()
        else this.#adopt(connection)
      },
      (error: NetError) => {
        if (this.#dialAbort === abort) this.#dialAbort = undefined
        if (this.#state === 'closed') return
        this.#stats.dialFailures++
        this.#logger.debug({ code: error.code, attempt: this.#attempt }, `dial failed: ${error.message}`)
        this.#reportRefusal(error)
        this.#redialLater(error)
      },
    )
  }

  /** A dial's or a knock's handshake failed: tells the node if it is a refusal it acts on (see onRefusal). */
  #reportRefusal(error: NetError): void {
    const code = refusalCode(error)
    if (code === 'REMOVED' || code === 'READS_MISMATCH') this.#options.onRefusal?.(this.remoteId, code, error.message)
  }

  #adopt(connection: PeerConnection): void {
    this.#cancelKnock?.()
    this.#cancelKnock = undefined
    const previous = this.#connection
    this.#connection = connection
    previous?.close(new NetError('REPLACED', `a newer connection from node ${this.remoteId} replaced this one`))
    this.#attempt = 0
    this.#stats.connects++
    connection.start({
      onMessages: (remoteId, messages) => {
        if (this.#connection === connection) this.#options.onMessages(remoteId, messages)
      },
      onClose: (error) => this.#onConnectionClosed(connection, error),
    })
    // start() may have found the connection already closed; its onClose then follows.
    this.#setState('connected')
  }

  #onConnectionClosed(connection: PeerConnection, error: NetError): void {
    if (this.#connection !== connection || this.#state === 'closed') return
    this.#connection = undefined
    if (this.dials) this.#redialLater(error)
    else this.#wait(error)
  }

  /** Accepting side: waits for the peer to dial in, knocking meanwhile. */
  #wait(error?: NetError): void {
    this.#setState('waiting', error)
    this.#knock()
  }

  /**
   * An accepting link cannot dial, and the peer that dials it may be waiting
   * out a backoff delay of up to maxDelayMs (this node was away). So while
   * this link waits, it knocks every knockEveryMs: it opens a connection,
   * which the peer refuses during the handshake but which makes it dial now
   * (see redialNow). A knock carries no message and needs no answer;
   * whatever it gets is closed, and its failures are expected.
   */
  #knock(): void {
    this.#cancelKnock?.()
    this.#cancelKnock = undefined
    if (this.#state !== 'waiting' || this.#address === undefined) return
    const abort = new AbortController()
    // The peer's refusal is the expected answer: not a warning (this link logs it at debug).
    dialPeer(this.#address, { ...this.#options, logger: silentLogger(), expectedRemoteId: this.remoteId, signal: abort.signal }).then(
      (connection) => connection.close(),
      (error: NetError) => {
        this.#logger.debug({ code: error.code }, `knock: ${error.message}`)
        this.#reportRefusal(error)
      },
    )
    const cancel = this.#schedule(() => {
      abort.abort()
      this.#knock()
    }, backoffDelayMs(0, { ...this.#backoff, initialDelayMs: knockEveryMs }, this.#random))
    this.#cancelKnock = () => {
      abort.abort()
      cancel()
    }
  }

  #redialLater(error: NetError): void {
    const delayMs = backoffDelayMs(this.#attempt, this.#backoff, this.#random)
    this.#setState('backoff', error, delayMs)
    this.#attempt++
    this.#cancelRedial = this.#schedule(() => this.#dial(), delayMs)
  }

  #setState(state: PeerLinkState, error?: NetError, delayMs?: number): void {
    this.#state = state
    const event: PeerLinkEvent = { remoteId: this.remoteId, state, attempt: this.#attempt }
    if (delayMs !== undefined) event.delayMs = delayMs
    if (error !== undefined) event.error = error
    this.#options.onStateChange?.(event)
  }
}

function defaultSchedule(callback: () => void, delayMs: number): () => void {
  const timer = setTimeout(callback, delayMs)
  return () => clearTimeout(timer)
}
