// The ShardActor: one replica of one shard, hosted on a ShardHost worker
// thread. It owns a ShardReplica (Raft core + machine + Ready loop), ticks it
// on a timer, and talks to the WalWriter, the peer router and the gateway
// through the runtime's rings.
import { splitMessagesBySize, type Message } from '../src/raft/index.js'
import { peerConnectionDefaults } from '../src/net/peer-connection-options.js'
import type { QueueReceiveCommand, ShardCommand } from '../src/machines/index.js'
import { refTo, type ActorAddress, type ActorFactory } from '../src/runtime/index.js'
import { SnapshotStore, type DurableAck, type LogEntry, type ShardState } from '../src/wal/index.js'
import type { WalWriterMsg, WalWriterReply } from './wal-writer.js'
import { TickClock } from './tick-clock.js'
import { ShardReplica, shardReplicaDefaults, type ShardReplicaOptions, type ShardReply, type ShardStatus } from './shard-replica.js'

export type ShardMsg =
  | { type: 'tick' }
  | { type: 'raft'; messages: Message[] }
  | { type: 'propose'; command: ShardCommand }
  | { type: 'receive'; command: QueueReceiveCommand; waitMs: number; waitId?: string }
  | { type: 'cancel-receive'; waitId: string }
  | { type: 'get'; key: string; stale: boolean }
  | { type: 'queue-stats'; queue: string }
  | { type: 'queue-config'; queue: string }
  | { type: 'queue-names' }
  | { type: 'status' }
  | { type: 'transfer'; to: number }
  | { type: 'leaving' }
  /** The peer link to node `node` went down (see ShardReplica.peerDown). */
  | { type: 'peer-down'; node: number }
  /** Node `id` joins the cluster (see ShardReplica.join); asked of shard 0's leader. */
  | { type: 'join'; id: number; peer: string; membersMax: number }
  /** Node `id` leaves the cluster (see ShardReplica.removeMember); asked of shard 0's leader. */
  | { type: 'remove-member'; id: number }
  /**
   * The replicas this shard should have now, in order of preference, and the
   * nodes removed from the cluster (see ShardReplica.setReplicas).
   */
  | { type: 'replicas'; ids: number[]; departed: number[] }

export type ShardAnswer = ShardReply<unknown> | ShardStatus

/** What the gateway hears from a shard actor (told, not asked). */
export type GatewayNotice =
  | { type: 'dead-letter'; shard: number; effect: unknown }
  /** A node that joined the cluster, and where it serves peers (see ShardPorts.member). */
  | { type: 'member'; id: number; peer: string }
  /** A node removed from the cluster by shard 0's log (see ShardPorts.departed). */
  | { type: 'departed'; id: number }

/**
 * A Ready's Raft messages go to the peer router in runs of at most this
 * many bytes of entries and snapshot data (a run holds at least one
 * message), and the router sends each run to a peer as one wire message:
 * half a peer frame, so a run fits one even with one entry of a 10 MiB
 * request in it.
 */
const raftRunBytesMax = peerConnectionDefaults.maxFrameBytes / 2

/** What the peer router hears from a shard actor. */
export type RouterNotice = { type: 'raft-out'; shard: number; messages: Message[] }

export interface ShardActorArgs {
  shard: number
  nodeId: number
  voters: number[]
  snapshotDir: string
  wal: ActorAddress
  gateway: ActorAddress
  router?: ActorAddress
  tickMs: number
  seed: number
  replica?: Partial<Omit<ShardReplicaOptions, 'shard' | 'nodeId' | 'voters' | 'seed'>>
}

// One snapshot store (and its piscina pool) per thread, shared by the shards on it.
const stores = new Map<string, SnapshotStore>()
function storeFor(dir: string): SnapshotStore {
  let store = stores.get(dir)
  if (!store) {
    store = new SnapshotStore({ dir })
    stores.set(dir, store)
  }
  return store
}

export function shardActor(args: ShardActorArgs): ActorFactory<ShardMsg, ShardAnswer> {
  return (ctx) => {
    const wal = refTo<WalWriterMsg, WalWriterReply>(args.wal, 'wal-writer')
    const gateway = refTo<GatewayNotice, void>(args.gateway, 'gateway')
    const router = args.router ? refTo<RouterNotice, void>(args.router, 'peer-router') : undefined
    const store = storeFor(args.snapshotDir)
    let failure: Error | undefined
    let timer: NodeJS.Timeout | undefined
    const log = ctx.log.child({ shard: args.shard })
    const replica = new ShardReplica(
      { ...shardReplicaDefaults, ...args.replica, shard: args.shard, nodeId: args.nodeId, voters: args.voters, seed: args.seed },
      {
        wal: {
          append: (write) => wal.ask({ type: 'append', write }, { timeoutMs: 60_000 }) as Promise<DurableAck>,
          state: (shard) => wal.ask({ type: 'state', shard }, { timeoutMs: 60_000 }) as Promise<ShardState>,
          read: (shard, fromIndex, toIndexExclusive) =>
            wal.ask({ type: 'read', shard, fromIndex, toIndexExclusive }, { timeoutMs: 60_000 }) as Promise<LogEntry[]>,
        },
        snapshots: {
          save: (meta, payload) => store.save(meta, payload),
          load: (shard) => store.load(shard),
        },
        send: (messages) => {
          if (!router) return
          for (const run of splitMessagesBySize(messages, raftRunBytesMax)) {
            if (!router.tell({ type: 'raft-out', shard: args.shard, messages: run })) {
              // Raft tolerates lost messages; a flooded router drops rather than blocks.
              log.debug({ dropped: run.length }, 'peer router busy: dropped raft messages')
            }
          }
        },
        deadLetter: (effect) => void gateway.send({ type: 'dead-letter', shard: args.shard, effect }).catch(() => undefined),
        // Shard 0's log decides the members (joins and removals); the other shards follow the node's list.
        ...(args.shard === 0
          ? {
              member: (id: number, peer: string) => void gateway.send({ type: 'member', id, peer }).catch(() => undefined),
              departed: (id: number) => void gateway.send({ type: 'departed', id }).catch(() => undefined),
            }
          : {}),
        fail: (error) => {
          failure = error
          // Crash through the mailbox, so the supervisor sees it.
          ctx.self.tell({ type: 'status' })
        },
        log,
        nowMs: () => Date.now(),
      },
    )
    // Ticks follow the monotonic clock (see TickClock): the interval only
    // makes sure an idle replica still gets them.
    const electionTicks = args.replica?.electionTicks ?? shardReplicaDefaults.electionTicks
    let clock: TickClock | undefined
    const catchUp = (): void => {
      for (let due = clock?.due(performance.now()) ?? 0; due > 0; due--) replica.tick()
    }
    return {
      async started() {
        await replica.recover()
        clock = new TickClock(args.tickMs, 3 * electionTicks, performance.now())
        timer = setInterval(() => ctx.self.tell({ type: 'tick' }), args.tickMs)
      },
      receive(msg) {
        if (failure) throw failure
        catchUp()
        switch (msg.type) {
          case 'tick':
            return { ok: true, value: null }
          case 'raft':
            replica.step(msg.messages)
            return { ok: true, value: null }
          case 'propose':
            return ctx.later<ShardAnswer>(replica.propose(msg.command))
          case 'receive':
            return ctx.later<ShardAnswer>(replica.receive(msg.command, msg.waitMs, msg.waitId))
          case 'cancel-receive':
            return replica.cancelReceive(msg.waitId)
          case 'get':
            return ctx.later<ShardAnswer>(replica.read(msg.key, msg.stale))
          case 'queue-stats':
            return replica.view((m) => m.queueStats(msg.queue) ?? null)
          case 'queue-config':
            return replica.view((m) => m.queueConfig(msg.queue) ?? null)
          case 'queue-names':
            return replica.view((m) => m.queueNames())
          case 'status':
            return replica.status()
          case 'transfer':
            return replica.transferLeadership(msg.to)
          case 'leaving':
            replica.leave()
            return { ok: true, value: null }
          case 'peer-down':
            replica.peerDown(msg.node)
            return { ok: true, value: null }
          case 'join':
            return ctx.later<ShardAnswer>(replica.join(msg.id, msg.peer, msg.membersMax))
          case 'remove-member':
            return ctx.later<ShardAnswer>(replica.removeMember(msg.id))
          case 'replicas':
            replica.setReplicas(msg.ids, msg.departed)
            return { ok: true, value: null }
        }
      },
      stopping() {
        if (timer) clearInterval(timer)
        replica.close()
      },
    }
  }
}
