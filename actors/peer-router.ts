// The PeerRouter: on the main thread, it owns the node's peer network (one
// PeerLink per remote node, see src/net) and routes what crosses it:
//   raft  Raft messages between the replicas of a shard, batched per
//         (shard, destination) for each Ready;
//   req   a client request forwarded to the node that leads its shard;
//   res   the answer to a forwarded request;
//   info  the client addresses (HTTP, TCP) a node serves on, and whether it
//         is stopping (it then takes no leadership), sent when a link
//         comes up and when they change, so every node can name them.
// Raft tolerates lost messages, so a full link drops rather than buffers.
import type { Logger } from 'pino'
import type { Message } from '../src/raft/index.js'
import { PeerTransport, formatPeerAddress, type PeerTransportOptions, type ReadMode } from '../src/net/index.js'
import type { ActorFactory } from '../src/runtime/index.js'
import type { Gateway } from './gateway.js'
import type { RouterNotice, ShardMsg } from './shard-actor.js'
import type { ShardReply } from './shard-replica.js'
import { answerJoin, isJoinRequest, serveJoin, type JoinAnswer, type JoinRequest } from '../src/node/join.js'

type PeerWireMessage =
  | { t: 'raft'; s: number; m: Message[] }
  | { t: 'req'; id: number; s: number; q: ShardMsg; ms: number }
  | { t: 'res'; id: number; r: ShardReply<unknown> }
  | { t: 'info'; http?: string; tcp?: string; leaving?: boolean }
  | JoinRequest
  | JoinAnswer

/** Where a node serves clients, as it announced them. */
export interface ClientAddresses {
  http?: string
  tcp?: string
}

export interface PeerInfo extends ClientAddresses {
  id: number
  peer: string
  /** `up` while the link to it is connected. */
  state: 'up' | 'down'
  /** It said it is stopping: it takes no leadership any more. */
  leaving?: boolean
}

export interface PeerRouterOptions {
  localId: number
  listen: string
  peers: ReadonlyMap<number, string>
  secret: string | undefined
  logger: Logger
  /** Answers a node that asks to join the cluster through this one (see src/node/join.ts); absent: unknown nodes are refused. */
  onJoin?: ((request: JoinRequest) => Promise<JoinAnswer>) | undefined
  /** Nodes removed from the cluster: their connections are refused with REMOVED (see PeerTransportOptions). */
  isRemoved?: ((id: number) => boolean) | undefined
  /** How this node serves linearizable reads: members that differ refuse each other (READS_MISMATCH). */
  reads?: ReadMode | undefined
  /** A member refused this node for good (see PeerTransportOptions.onRefusal). */
  onRefusal?: PeerTransportOptions['onRefusal']
}

interface PendingForward {
  to: number
  /** The request (the gateway's caller holds it until the answer anyway); retrySafe reads it if the link is lost. */
  msg: ShardMsg
  resolve(reply: ShardReply<unknown>): void
  timer: NodeJS.Timeout
}

/**
 * Requests the gateway may run again when their answer is lost: reads;
 * receives (a receive that did happen on the lost node only hides its
 * messages until their visibility timeout, as a lost receive answer does
 * anywhere); and sends whose every message has a dedupId (run again, a send
 * that did commit is answered with the same ids, as when the SDK retries
 * one). Other proposals and
 * leadership transfers are not.
 */
function retrySafe(msg: ShardMsg): boolean {
  if (msg.type === 'transfer') return false
  if (msg.type !== 'propose') return true
  const { command } = msg
  return command.type === 'queue.send' && command.messages.every((message) => message.dedupId !== undefined)
}

/** How long the link to a removed node stays open for the answers on their way to it (see removePeer). */
const removedPeerLingerMs = 1_000

/** Forwarded requests waiting for an answer, per node; beyond it UNAVAILABLE. */
const forwardsInFlightMax = 100_000

export class PeerRouter {
  private transport: PeerTransport | undefined
  private readonly pending = new Map<number, PendingForward>()
  private nextRequestId = 1
  private local: ClientAddresses & { leaving?: boolean } = {}
  private readonly remote = new Map<number, ClientAddresses & { leaving?: boolean }>()
  private readonly connected = new Set<number>()
  /** The other members' peer addresses: the initial ones, then the nodes that joined. */
  private readonly peerAddresses: Map<number, string>
  droppedRaftMessages = 0

  constructor(
    private readonly options: PeerRouterOptions,
    private readonly gateway: Gateway,
  ) {
    this.peerAddresses = new Map(options.peers)
  }

  async start(): Promise<void> {
    const transportOptions: PeerTransportOptions = {
      localId: this.options.localId,
      listen: this.options.listen,
      peers: this.peerAddresses,
      secret: this.options.secret,
      logger: this.options.logger,
      onJoinConnection: this.options.onJoin ? (connection) => serveJoin(connection, this.options.onJoin!, this.options.logger) : undefined,
      isRemoved: this.options.isRemoved,
      reads: this.options.reads,
      onRefusal: this.options.onRefusal,
      onMessages: (remoteId, messages) => {
        for (const message of messages) this.receive(remoteId, message as PeerWireMessage)
      },
      onLinkState: (event) => {
        this.options.logger.info({ peer: event.remoteId, state: event.state }, 'peer link')
        if (event.state === 'connected') {
          this.connected.add(event.remoteId)
          this.sendInfo(event.remoteId)
        } else if (this.connected.delete(event.remoteId)) {
          this.gateway.forgetNode(event.remoteId)
          this.failPending(event.remoteId)
          // Followers of a shard it led elect a new leader without waiting out the election timeout.
          for (const shard of this.gateway.shards) shard?.tell({ type: 'peer-down', node: event.remoteId })
        }
      },
    }
    this.transport = await PeerTransport.start(transportOptions)
  }

  get address(): string {
    const address = this.transport?.address
    return address ? formatPeerAddress(address) : this.options.listen
  }

  /** A node that joined: links to it from now on (or its new address, if it moved). */
  addPeer(id: number, peer: string): void {
    if (id === this.options.localId || this.peerAddresses.get(id) === peer) return
    this.peerAddresses.set(id, peer)
    this.transport?.addPeer(id, peer)
    this.options.logger.info({ peer: id, address: peer }, 'peer added')
  }

  /**
   * A node removed from the cluster: it is no peer from now on, and its link
   * closes a moment later (removedPeerLingerMs), so that the answers on their
   * way to it still go out (the answer to its own removal among them). Then
   * what was forwarded there and not answered fails.
   */
  removePeer(id: number): void {
    if (!this.peerAddresses.delete(id)) return
    this.remote.delete(id)
    // Requests go to the shards' other replicas from now on.
    this.gateway.forgetNode(id)
    setTimeout(() => {
      if (!this.peerAddresses.has(id)) this.transport?.removePeer(id)
    }, removedPeerLingerMs).unref()
    this.options.logger.info({ peer: id }, 'peer removed')
  }

  /** Sets the client addresses this node announces to its peers. */
  announce(addresses: ClientAddresses): void {
    this.local = { ...this.local, ...addresses }
    for (const id of this.connected) this.sendInfo(id)
  }

  /** Tells the other members that this node is stopping (before it hands its leaderships over). */
  announceLeaving(): void {
    this.local = { ...this.local, leaving: true }
    for (const id of this.connected) this.sendInfo(id)
  }

  /** What this node announces (client addresses, whether it is stopping), to node `id`. */
  private sendInfo(id: number): void {
    this.transport?.send(id, { t: 'info', ...this.local } satisfies PeerWireMessage)
  }

  /** The other members: peer address, link state and the client addresses they announced. */
  peers(): PeerInfo[] {
    return [...this.peerAddresses].map(([id, peer]) => ({
      id,
      peer,
      state: this.connected.has(id) ? 'up' : 'down',
      ...this.remote.get(id),
    }))
  }

  /**
   * Sends a run of a Ready's Raft messages, one wire message per
   * destination. The shard actor cuts a Ready's messages into runs of at
   * most half a peer frame (or one larger message: see raftRunBytesMax),
   * so a wire message stays within the frame.
   */
  sendRaft(shard: number, messages: Message[]): void {
    const byNode = new Map<number, Message[]>()
    for (const message of messages) {
      const list = byNode.get(message.to)
      if (list) list.push(message)
      else byNode.set(message.to, [message])
    }
    for (const [to, list] of byNode) {
      if (!this.transport?.send(to, { t: 'raft', s: shard, m: list } satisfies PeerWireMessage)) this.droppedRaftMessages += list.length
    }
  }

  /** Asks node `to` to run `msg` on its replica of `shard` (one hop: it never forwards further). */
  forward(to: number, shard: number, msg: ShardMsg, timeoutMs: number): Promise<ShardReply<unknown>> {
    const unavailable = (message: string): ShardReply<unknown> => ({ ok: false, error: { code: 'UNAVAILABLE', message } })
    if (!this.transport) return Promise.resolve(unavailable('the peer network is not started'))
    if (this.pending.size >= forwardsInFlightMax) return Promise.resolve(unavailable('too many forwarded requests in flight'))
    const id = this.nextRequestId++
    if (!this.transport.send(to, { t: 'req', id, s: shard, q: msg, ms: timeoutMs } satisfies PeerWireMessage)) {
      return Promise.resolve(unavailable(`node ${to} is not reachable`))
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve({ ok: false, error: { code: 'TIMEOUT', message: `node ${to} did not answer in time: the outcome is unknown` } })
      }, timeoutMs)
      this.pending.set(id, { to, msg, resolve, timer })
    })
  }

  /**
   * The link to node `to` went down: the answers to what was forwarded there
   * will not come (a killed node answers nothing), so each request ends now
   * instead of at its deadline. A retry-safe request fails UNAVAILABLE, which
   * the gateway retries on the shard's next leader; a write may have been
   * committed before the link went, so its outcome is unknown (TIMEOUT).
   */
  private failPending(to: number): void {
    for (const [id, pending] of this.pending) {
      if (pending.to !== to) continue
      this.pending.delete(id)
      clearTimeout(pending.timer)
      pending.resolve(
        retrySafe(pending.msg)
          ? { ok: false, error: { code: 'UNAVAILABLE', message: `the link to node ${to} was lost before it answered` } }
          : { ok: false, error: { code: 'TIMEOUT', message: `the link to node ${to} was lost before it answered: the outcome is unknown` } },
      )
    }
  }

  async close(): Promise<void> {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.resolve({ ok: false, error: { code: 'TIMEOUT', message: 'the node is shutting down: the outcome is unknown' } })
      this.pending.delete(id)
    }
    await this.transport?.close()
  }

  private receive(remoteId: number, message: PeerWireMessage): void {
    switch (message.t) {
      case 'raft': {
        const shard = this.gateway.shards[message.s]
        if (!shard || !shard.tell({ type: 'raft', messages: message.m })) this.droppedRaftMessages += message.m.length
        return
      }
      case 'req':
        void this.gateway.callLocal(message.s, message.q, message.ms).then((reply) => {
          this.transport?.send(remoteId, { t: 'res', id: message.id, r: reply } satisfies PeerWireMessage)
        })
        return
      case 'info':
        this.remote.set(remoteId, {
          ...(typeof message.http === 'string' ? { http: message.http } : {}),
          ...(typeof message.tcp === 'string' ? { tcp: message.tcp } : {}),
          ...(message.leaving === true ? { leaving: true } : {}),
        })
        if (message.leaving === true) this.gateway.forgetNode(remoteId)
        return
      case 'join':
        // A node that is already a peer asks again (it restarted while joining): answered on its link.
        if (!this.options.onJoin || !isJoinRequest(message) || message.id !== remoteId) return
        void answerJoin(message, this.options.onJoin, this.options.logger).then((answer) => this.transport?.send(remoteId, answer))
        return
      case 'joined':
      case 'join-refused':
        return
      case 'res': {
        const pending = this.pending.get(message.id)
        if (!pending) return
        this.pending.delete(message.id)
        clearTimeout(pending.timer)
        pending.resolve(message.r)
        return
      }
    }
  }
}

/** The router's mailbox: Raft messages from the shard actors on worker threads. */
export function peerRouterActor(router: PeerRouter): ActorFactory<RouterNotice, void> {
  return () => ({
    receive(notice) {
      router.sendRaft(notice.shard, notice.messages)
    },
  })
}
