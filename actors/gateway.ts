// The Gateway: on the main thread, it routes every client request to the
// actor of the shard that holds the queue or key, turns shard answers into
// TroupeErrors with the contract's codes, retries what is known not to have
// happened while a shard elects a leader, and drives the cross-shard
// dead-letter protocol the machines ask for.
import type { DeadLetterEffect, ShardCommand, QueueReceiveCommand } from '../src/machines/index.js'
import type { ActorFactory, ActorRef } from '../src/runtime/index.js'
import { TroupeError, type TroupeErrorCode } from '../src/node/node-errors.js'
import { WriteBudget } from '../src/node/write-budget.js'
import type { GatewayNotice, ShardAnswer, ShardMsg } from './shard-actor.js'
import type { ShardErrorCode, ShardReply, ShardStatus } from './shard-replica.js'
import type { Logger } from 'pino'

export interface GatewayOptions {
  /** How long a request may take before it fails with TIMEOUT (or UNAVAILABLE when it never started). */
  requestTimeoutMs: number
  /** First delay between retries of a request a leaderless shard refused. */
  retryInitialMs: number
  retryMaxMs: number
  /** Dead-letter moves driven at once; more wait for the next leader change or notice. */
  deadLettersInFlightMax: number
  /** See NodeOptions.writeBytesInFlightMax. */
  writeBytesInFlightMax: number
}

export const gatewayDefaults: GatewayOptions = {
  requestTimeoutMs: 10_000,
  retryInitialMs: 5,
  retryMaxMs: 200,
  deadLettersInFlightMax: 1_000,
  writeBytesInFlightMax: 64 * 1024 * 1024,
}

/** How long a forwarded cancel of a long-poll may take before it is given up. */
const cancelTimeoutMs = 2_000

export type ForwardFn = (to: number, shard: number, msg: ShardMsg, timeoutMs: number) => Promise<ShardReply<unknown>>

export class Gateway {
  /** This node's replicas, by shard (holes for shards it does not host); refs stay valid across restarts. */
  shards: (ActorRef<ShardMsg, ShardAnswer> | undefined)[] = []
  /** Sends a request to another node (set once the peer network is up; absent on a single node). */
  forward: ForwardFn | undefined
  shardCount = 0
  /** A node joined the cluster (a shard replica here learned it from its log; see GatewayNotice). */
  onMember: ((id: number, peer: string) => void) | undefined
  /** A node was removed from the cluster (shard 0's replica here applied it; see GatewayNotice). */
  onDeparted: ((id: number) => void) | undefined
  /** The bytes of writes this node has taken in and not answered (see WriteBudget). */
  readonly writes: WriteBudget
  private readonly deadLettersInFlight = new Set<string>()
  /**
   * The node that last answered as each shard's leader, or that a replica
   * named as leader: a routed request goes there first, so a request that
   * arrives at a follower's node is forwarded at once instead of being
   * refused NOT_LEADER by the local replica first. A wrong guess costs what
   * it always did: one NOT_LEADER that names the leader.
   */
  private readonly leaderGuess: (number | undefined)[] = []
  private closed = false
  private waitsStarted = 0

  constructor(
    private readonly localId: number,
    private readonly replicasOf: (shard: number) => number[],
    private readonly options: GatewayOptions,
    private readonly log: Logger,
  ) {
    // Large writes wait at most a quarter of their deadline before the ones ahead of them finish.
    this.writes = new WriteBudget(options.writeBytesInFlightMax, options.requestTimeoutMs / 4)
  }

  close(): void {
    this.closed = true
  }

  /**
   * Node `id` is stopping (it hands its leaderships over) or its link went
   * down: requests no longer go to it first on an old guess. They go to this
   * node's replica, which names the new leader, instead of being forwarded
   * to a node whose answer may never come (an unknown outcome for a write).
   */
  forgetNode(id: number): void {
    for (let shard = 0; shard < this.leaderGuess.length; shard++) if (this.leaderGuess[shard] === id) this.leaderGuess[shard] = undefined
  }

  propose<T>(shard: number, command: ShardCommand, timeoutMs = this.options.requestTimeoutMs): Promise<T> {
    return this.call<T>(shard, { type: 'propose', command }, timeoutMs)
  }

  receive<T>(shard: number, command: QueueReceiveCommand, waitMs: number): Promise<T> {
    return this.call<T>(shard, { type: 'receive', command, waitMs }, this.options.requestTimeoutMs + waitMs)
  }

  /**
   * Runs a request on the shard's leader, wherever it is, and unwraps the
   * answer. NOT_LEADER moves the request to the named leader (one hop: the
   * leader runs it locally). A refusal that is known not to have changed
   * anything (no leader yet, unreachable node) is retried with backoff until
   * the deadline; anything else is final.
   */
  async call<T>(shard: number, msg: ShardMsg, timeoutMs: number): Promise<T> {
    if (this.closed) throw new TroupeError('UNAVAILABLE', 'the node is shutting down')
    const deadline = Date.now() + timeoutMs
    const anyReplica = msg.type === 'get' && msg.stale
    const guess = anyReplica || !this.forward ? undefined : this.leaderGuess[shard]
    let target = guess ?? (this.shards[shard] ? this.localId : this.replicasOf(shard)[0]!)
    let delayMs = this.options.retryInitialMs
    let redirects = 0
    for (;;) {
      const remainingMs = deadline - Date.now()
      if (remainingMs <= 0) throw new TroupeError('UNAVAILABLE', `shard ${shard} did not become available in time`)
      const reply =
        target === this.localId || !this.forward
          ? await this.callLocal(shard, msg, remainingMs)
          : await this.forward(target, shard, msg, remainingMs)
      if (reply.ok) {
        if (!anyReplica) this.leaderGuess[shard] = target
        return reply.value as T
      }
      const { error } = reply
      if (error.code === 'NOT_LEADER' || error.code === 'UNAVAILABLE') this.leaderGuess[shard] = error.leaderId
      const retryable = error.code === 'UNAVAILABLE' || (error.code === 'NOT_LEADER' && error.leaderId !== undefined)
      if (retryable && !this.closed && Date.now() + delayMs < deadline) {
        // Follow a leader hint at once, a few times; hints that go round in
        // circles (an election under way) wait like any other refusal.
        if (error.code === 'NOT_LEADER' && error.leaderId !== target && this.forward && redirects++ < 3) {
          target = error.leaderId!
          continue
        }
        redirects = 0
        await sleep(delayMs)
        delayMs = Math.min(this.options.retryMaxMs, delayMs * 2)
        // Ask a replica here again: the leader may have moved or recovered.
        // Without one, ask the next replica in turn (the one asked may be down).
        if (this.shards[shard]) target = this.localId
        else target = nextReplica(this.replicasOf(shard), target)
        continue
      }
      throw new TroupeError(error.code as TroupeErrorCode, error.message, {
        ...(error.leaderId !== undefined ? { leaderId: error.leaderId } : {}),
        ...(error.missing !== undefined ? { missing: error.missing } : {}),
      })
    }
  }

  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs
  }

  /**
   * Runs a request on this node's replica of the shard and nothing else: a
   * replica that does not lead fails it with NOT_LEADER (naming the leader
   * when known), a node without a replica with MOVED (naming a replica). The
   * TCP protocol answers so, and its clients go to the leader themselves.
   */
  async callDirect<T>(shard: number, msg: ShardMsg, timeoutMs: number): Promise<T> {
    if (this.closed) throw new TroupeError('UNAVAILABLE', 'the node is shutting down')
    if (!this.shards[shard]) {
      const replica = this.replicasOf(shard)[0]!
      throw new TroupeError('MOVED', `node ${this.localId} holds no replica of shard ${shard}; node ${replica} does`, { leaderId: replica })
    }
    const reply = await this.callLocal(shard, msg, timeoutMs)
    if (reply.ok) return reply.value as T
    const { error } = reply
    throw new TroupeError(error.code as TroupeErrorCode, error.message, {
      ...(error.leaderId !== undefined ? { leaderId: error.leaderId } : {}),
      ...(error.missing !== undefined ? { missing: error.missing } : {}),
    })
  }

  /** A name for a cancellable long-poll receive, unique in the cluster (node id + counter). */
  newWaitId(): string {
    return `${this.localId}.${++this.waitsStarted}`
  }

  /**
   * Ends the long-poll receive named `waitId` early (see ShardReplica.cancelReceive).
   * A routed receive may have been forwarded to any replica of the shard, so
   * each is told; a direct one ran here. Best effort and not awaited: a lost
   * cancel leaves the receive waiting until its own waitMs ends.
   */
  cancelReceive(shard: number, waitId: string, routed: boolean): void {
    const msg: ShardMsg = { type: 'cancel-receive', waitId }
    for (const replica of this.replicasOf(shard)) {
      if (replica === this.localId) this.shards[shard]?.tell(msg)
      else if (routed && this.forward) void this.forward(replica, shard, msg, cancelTimeoutMs)
    }
  }

  /** Runs a request on this node's replica of the shard; never forwards. */
  async callLocal(shard: number, msg: ShardMsg, timeoutMs: number): Promise<ShardReply<unknown>> {
    const ref = this.shards[shard]
    if (!ref) return { ok: false, error: { code: 'UNAVAILABLE', message: `node ${this.localId} holds no replica of shard ${shard}` } }
    try {
      return (await ref.ask(msg, { timeoutMs })) as ShardReply<unknown>
    } catch (error) {
      const failure = runtimeToTroupe(error, shard)
      return { ok: false, error: { code: failure.code as ShardErrorCode, message: failure.message } }
    }
  }

  async status(shard: number): Promise<ShardStatus> {
    const ref = this.shards[shard]
    if (!ref) throw new TroupeError('UNAVAILABLE', `shard ${shard} is not running on this node`)
    try {
      return (await ref.ask({ type: 'status' }, { timeoutMs: 2_000 })) as ShardStatus
    } catch (error) {
      throw runtimeToTroupe(error, shard)
    }
  }

  /**
   * Moves one dead-lettered message: make sure the DLQ exists (a logged
   * command on its shard), copy the message there under a deterministic
   * dedupId (so a repeat adds nothing), then tell the source shard to drop
   * it. A failure leaves the message pending at the source, whose next
   * leader drives the move again.
   */
  async deadLetter(sourceShard: number, effect: DeadLetterEffect, shardOf: (queue: string) => number): Promise<void> {
    if (this.deadLettersInFlight.has(effect.messageId) || this.deadLettersInFlight.size >= this.options.deadLettersInFlightMax) return
    this.deadLettersInFlight.add(effect.messageId)
    try {
      const target = shardOf(effect.target)
      await this.propose(target, { type: 'queue.create', queue: effect.target, config: {} })
      await this.propose(target, {
        type: 'queue.send',
        queue: effect.target,
        messages: [{ body: effect.body, priority: effect.priority, dedupId: effect.dedupId }],
      })
      await this.propose(sourceShard, { type: 'queue.dead-lettered', queue: effect.source, messageId: effect.messageId })
    } catch (error) {
      this.log.warn({ err: error, messageId: effect.messageId, target: effect.target }, 'dead-letter move failed; it stays pending')
    } finally {
      this.deadLettersInFlight.delete(effect.messageId)
    }
  }
}

/** The gateway's mailbox: what shard actors tell it. */
export function gatewayActor(gateway: Gateway, shardOf: (queue: string) => number): ActorFactory<GatewayNotice, void> {
  return () => ({
    receive(notice) {
      if (notice.type === 'dead-letter') void gateway.deadLetter(notice.shard, notice.effect as DeadLetterEffect, shardOf)
      else if (notice.type === 'member') gateway.onMember?.(notice.id, notice.peer)
      else if (notice.type === 'departed') gateway.onDeparted?.(notice.id)
    },
  })
}

function runtimeToTroupe(error: unknown, shard: number): TroupeError {
  const code = (error as { code?: string }).code
  const message = (error as Error).message ?? String(error)
  switch (code) {
    case 'ASK_TIMEOUT':
      return new TroupeError('TIMEOUT', `shard ${shard} did not answer in time: the outcome is unknown`)
    case 'MAILBOX_FULL':
      return new TroupeError('UNAVAILABLE', `shard ${shard} is overloaded; retry later`)
    case 'ACTOR_FAILED':
      return new TroupeError('TIMEOUT', `shard ${shard} failed while handling the request (${message}): the outcome is unknown`)
    default:
      return new TroupeError('UNAVAILABLE', `shard ${shard} is unavailable: ${message}`)
  }
}

function nextReplica(replicas: number[], current: number): number {
  return replicas[(replicas.indexOf(current) + 1) % replicas.length]!
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
