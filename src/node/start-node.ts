// startNode(): one Troupe node in this process. The actor tree:
//
//   root
//    ├─ gateway                 main thread: routes requests, drives dead-lettering
//    └─ storage (rest-for-one)  a WAL restart restarts the shards after it
//        ├─ wal                 worker thread: the WalWriter (group commit for all shards)
//        └─ shards-k            worker threads: one ShardActor per shard replica
//
// With walThread 'shared' (the default when there is one shard thread) there
// is no 'wal' thread: the WalWriter is the first actor on shards-1.
//
// Shards recover from their newest snapshot plus the WAL whenever they (re)start.
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { randomInt } from 'node:crypto'
import { Gateway, gatewayActor, gatewayDefaults } from '../../actors/gateway.js'
import { troupeMessageShapes } from '../../actors/message-shapes.js'
import { PeerRouter, peerRouterActor } from '../../actors/peer-router.js'
import type { ShardActorArgs, ShardAnswer, ShardMsg } from '../../actors/shard-actor.js'
import type { WalWriterArgs, WalWriterMsg, WalWriterReply } from '../../actors/wal-writer.js'
import { shardForQueue } from '../cluster/placement.js'
import { ActorSystem, useMessageShapes, type ActorRef, type RemoteChildSpec, type ThreadHost } from '../runtime/index.js'
import { createDefaultLogger } from '../runtime/logger.js'
import type { Logger } from 'pino'
import { replicasOf, resolveNodeOptions, type NodeOptions, type ResolvedNodeOptions } from './node-options.js'
import { TroupeNode } from './troupe-node.js'
import { requestJoin, type JoinAnswer, type JoinRequest } from './join.js'
import { TroupeError } from './node-errors.js'
import type { NodeRefusalCode } from '../net/index.js'

const walWriterModule = new URL('../../actors/wal-writer.js', import.meta.url).href
const shardActorModule = new URL('../../actors/shard-actor.js', import.meta.url).href

/** What a data directory remembers about the cluster it belongs to. */
interface NodeIdentity {
  format: 1
  nodeId: number
  shards: number
  /**
   * The initial members, whose replicas start the shards (absent in older
   * directories: the `cluster` option's list). Empty for a node that joined
   * a running cluster: its replicas start empty and wait for their leader's
   * snapshot.
   */
  initialMembers?: [number, string][]
  /** Every member this node knows of and its peer address: the initial ones, then the nodes that joined. */
  members?: [number, string][]
  /** Nodes removed from the cluster (by shard 0's log): never members again, whatever `cluster` lists. */
  removed?: number[]
}

/**
 * A cluster grows by joining up to this many members: up to three, every
 * member holds a replica of every shard, so a node that joins only adds
 * replicas. Beyond, replicas would have to move (see replicasOf); larger
 * clusters start with every member in the `cluster` option.
 */
const JOIN_MEMBERS_MAX = 3

export async function startNode(options: NodeOptions = {}): Promise<TroupeNode> {
  const config = resolveNodeOptions(options)
  config.signal?.throwIfAborted()
  // A start ends early when asked (options.signal) or when a member refuses this node for good: it was removed
  // from the cluster, or it serves linearizable reads differently.
  const refusal = new AbortController()
  const signal = config.signal ? AbortSignal.any([config.signal, refusal.signal]) : refusal.signal
  const dataDir = resolve(config.dataDir)
  await mkdir(dataDir, { recursive: true })
  const stored = await readIdentity(dataDir, config)
  const log = (config.logger ?? createDefaultLogger('troupe')).child({ node: config.id })
  if (stored && config.join !== undefined) log.info({ join: config.join }, 'this node is a member already: it restarts as one and does not join again')
  const joining = !stored && config.join !== undefined
  // The members: the ones this directory knows, with the addresses given now for the ones listed, less the removed ones.
  const removed = new Set<number>(stored?.removed ?? [])
  const members = new Map<number, string>([...(stored?.members ?? []), ...(joining ? [[config.id, config.peer] as const] : config.members)])
  for (const id of removed) members.delete(id)
  const initialMembers = new Map<number, string>(stored?.initialMembers ?? (joining ? [] : config.members))
  // A node that joined has no initial members: its replicas wait for their leader's snapshot.
  const joined = initialMembers.size === 0
  let identity: NodeIdentity = stored ?? { format: 1, nodeId: config.id, shards: config.shards }
  if (!useMessageShapes(troupeMessageShapes)) {
    log.debug('threads were started before this node: its messages cross threads self-describing (correct, a little slower)')
  }
  const system = await ActorSystem.start({ name: `troupe-${identity.nodeId}`, logger: log })
  const replicas = (shard: number) => replicasOf(shard, members)
  const gateway = new Gateway(identity.nodeId, replicas, { ...gatewayDefaults, requestTimeoutMs: config.requestTimeoutMs, writeBytesInFlightMax: config.writeBytesInFlightMax }, log.child({ actor: 'gateway' }))
  gateway.shardCount = identity.shards
  const shardOf = (queue: string) => shardForQueue(queue, identity.shards)
  let router: PeerRouter | undefined
  // Writes of node.json, one after another.
  let saving: Promise<void> = Promise.resolve()
  const saveIdentity = () => {
    identity = { ...identity, members: [...members], ...(removed.size > 0 ? { removed: [...removed] } : {}) }
    const next = identity
    saving = saving.then(() => writeIdentity(dataDir, next)).catch((error) => log.error({ err: error }, 'could not write node.json'))
    return saving
  }
  const tellReplicas = () => {
    for (let shard = 0; shard < gateway.shardCount; shard++) gateway.shards[shard]?.tell({ type: 'replicas', ids: replicas(shard), departed: [...removed] })
  }
  /**
   * A node that joined, learned from shard 0's log or answered here. A
   * removed node is not taken back: removal is for good, so an address of
   * it that comes later is from before its removal (a snapshot of shard 0
   * older than the removal, replayed at a restart).
   */
  const addMember = (id: number, peer: string) => {
    if (removed.has(id) || members.get(id) === peer) return
    members.set(id, peer)
    router?.addPeer(id, peer)
    void saveIdentity()
    tellReplicas()
    log.info({ member: id, peer, members: members.size }, 'a node joined the cluster')
  }
  gateway.onMember = addMember
  let selfRemoved = false
  /** A node that shard 0's log removed from the cluster. */
  const dropMember = (id: number) => {
    if (id === config.id) {
      if (selfRemoved) return
      selfRemoved = true
      // Its shards' leaders remove this node's replicas once it leads none: it hands its leaderships over.
      log.warn('this node was removed from the cluster: stop it (its data directory cannot serve the cluster again)')
      void handOverOnRemoval?.()
      return
    }
    if (removed.has(id)) return
    removed.add(id)
    members.delete(id)
    router?.removePeer(id)
    void saveIdentity()
    tellReplicas()
    log.info({ member: id, members: members.size }, 'a node was removed from the cluster')
  }
  gateway.onDeparted = dropMember
  /** Set once the node is ready (see handOver). */
  let handOverOnRemoval: (() => Promise<void>) | undefined
  const mismatchReported = new Set<number>()
  /**
   * A member refused this node's connection for good: this node was removed
   * from the cluster, or the two serve linearizable reads differently
   * (readOnly). A start then fails at once with the reason, instead of
   * waiting for leaders that will not come; a running node that was removed
   * drops itself, and one that differs says so once per member.
   */
  const refusedByPeer = (by: number, code: NodeRefusalCode, message: string) => {
    if (handOverOnRemoval === undefined) {
      const removal = `node ${config.id} was removed from this cluster (node ${by} refuses it): its data directory cannot serve the cluster again; start a new node with a new id and join`
      refusal.abort(code === 'REMOVED' ? new TroupeError('CONFLICT', removal) : new TroupeError('INVALID_ARGUMENT', message))
    } else if (code === 'REMOVED') {
      dropMember(config.id)
    } else if (!mismatchReported.has(by)) {
      mismatchReported.add(by)
      log.error({ peer: by }, message)
    }
  }
  const onJoin = async (request: JoinRequest): Promise<JoinAnswer> => {
    if (gateway.shards.length === 0) throw new TroupeError('UNAVAILABLE', `node ${config.id} is still starting`)
    // Shard 0's leader decides (a taken id, the members' count), one join at a time.
    await gateway.call(0, { type: 'join', id: request.id, peer: request.peer, membersMax: JOIN_MEMBERS_MAX }, config.requestTimeoutMs)
    addMember(request.id, request.peer)
    return { t: 'joined', shards: gateway.shardCount, members: [...members] }
  }
  try {
    const gatewayRef = await system.spawn(gatewayActor(gateway, shardOf), { name: 'gateway', mailbox: { capacity: 100_000 } })
    let routerRef: ActorRef<unknown, unknown> | undefined
    // A single node serves peers (and can be joined) when its peer address was given (the CLI always gives one).
    if (members.size > 1 || joining || options.peer !== undefined) {
      const peers = new Map([...members].filter(([id]) => id !== config.id))
      router = new PeerRouter(
        {
          localId: config.id,
          listen: config.peer,
          peers,
          secret: config.clusterSecret,
          logger: log.child({ actor: 'peer-router' }),
          onJoin,
          isRemoved: (id) => removed.has(id),
          reads: config.readOnly,
          onRefusal: refusedByPeer,
        },
        gateway,
      )
      await router.start()
      signal.throwIfAborted()
      // The address peers reach this node at (the bound port, when port 0 was asked).
      members.set(config.id, router.address)
      const started = router
      gateway.forward = (to, shard, msg, timeoutMs) => started.forward(to, shard, msg, timeoutMs)
      routerRef = await system.spawn(peerRouterActor(router), { name: 'peer-router', mailbox: { capacity: 100_000 } })
    }
    if (joining) {
      const peer = router!.address
      log.info({ join: config.join, peer }, 'joining a running cluster')
      const cluster = await requestJoin(config.join!, { localId: config.id, peer, secret: config.clusterSecret, reads: config.readOnly, timeoutMs: config.readyTimeoutMs, signal, logger: log })
      members.clear()
      for (const [id, address] of cluster.members) members.set(id, id === config.id ? peer : address)
      for (const [id, address] of members) router!.addPeer(id, address)
      identity = { format: 1, nodeId: config.id, shards: cluster.shards, initialMembers: [] }
      gateway.shardCount = cluster.shards
      log.info({ members: [...members.keys()], shards: cluster.shards }, 'joined the cluster')
    } else if (identity.initialMembers === undefined) {
      identity = { ...identity, initialMembers: [...initialMembers] }
    }
    signal.throwIfAborted()
    await saveIdentity()
    const walArgs: WalWriterArgs = { options: { dir: join(dataDir, 'wal'), sync: config.sync } }
    const walSpec: RemoteChildSpec = {
      id: 'wal-writer',
      definition: { module: walWriterModule, export: 'walWriter', args: walArgs },
      mailbox: { capacity: 100_000 },
      shutdownMs: 10_000,
    }
    // The WAL writer's thread: its own ('wal'), or the first shard thread,
    // whose shards then reach it without crossing threads (see walThread).
    const walShared = config.walThread === 'shared'
    const walHostId = walShared ? 'shards-1' : 'wal'
    const storage = await system.supervise('storage', {
      strategy: 'rest-for-one',
      maxRestarts: 5,
      withinMs: 60_000,
      children: [{ id: walHostId, thread: { name: walHostId, children: [walSpec] } }],
    })
    const walHost = storage.child<ThreadHost>(walHostId)
    const walRef = walHost.supervisor.child<ActorRef<unknown, unknown>>('wal-writer')
    const shardRefs: (ActorRef<ShardMsg, ShardAnswer> | undefined)[] = new Array(identity.shards)
    const hosted = [...Array(identity.shards).keys()].filter((shard) => replicas(shard).includes(identity.nodeId))
    const threads = Math.min(config.threads, hosted.length)
    for (let thread = 0; thread < threads; thread++) {
      const specs: RemoteChildSpec[] = []
      for (let i = thread; i < hosted.length; i += threads) {
        const shard = hosted[i]!
        // Initial members start a new group with the initial replicas; a node that joined waits for its leader.
        specs.push(shardSpec(shard, replicasOf(shard, joined ? members : initialMembers), !joined, identity, config, dataDir, walRef, gatewayRef, routerRef))
      }
      const shardIndex = (spec: RemoteChildSpec) => Number(spec.id.slice('shard-'.length))
      if (thread === 0 && walShared) {
        // Started after the writer, which they need; a new worker brings all back in this order.
        for (const spec of specs) shardRefs[shardIndex(spec)] = await walHost.spawn(spec)
        continue
      }
      signal.throwIfAborted()
      const host = (await storage.startChild({ id: `shards-${thread + 1}`, thread: { name: `shards-${thread + 1}`, children: specs } })) as ThreadHost
      for (const spec of specs) shardRefs[shardIndex(spec)] = host.supervisor.child(spec.id)
    }
    gateway.shards = shardRefs
    // Where the member list grew since the shards began, their leaders add the new replicas.
    tellReplicas()
    await waitForLeaders(gateway, config.readyTimeoutMs, signal)
    let handingOver: Promise<void> | undefined
    const handOver = (): Promise<void> =>
      (handingOver ??= (async () => {
        const peers = router
        if (!peers) return
        for (const shard of gateway.shards) shard?.tell({ type: 'leaving' })
        peers.announceLeaving()
        // Asked afresh each time: a member that says it is stopping too takes no leadership.
        const takesLeadership = (id: number) => peers.peers().some((peer) => peer.id === id && peer.state === 'up' && peer.leaving !== true)
        try {
          await handOverLeadership(gateway, replicas, identity.nodeId, takesLeadership, log)
        } catch (error) {
          // The stop goes on: whatever did not move is left to an election.
          log.warn({ err: error }, 'handing leadership over failed')
        }
      })())
    let closing: Promise<void> | undefined
    const close = () =>
      (closing ??= (async () => {
        await handOver()
        gateway.close()
        await finishInFlight(gateway, log)
        await system.shutdown()
        await router?.close()
        log.info('node stopped')
      })())
    log.info({ shards: identity.shards, threads: config.threads, walThread: config.walThread, sync: config.sync, dataDir }, 'node ready')
    const runningThreads = () => storage.whichChildren().filter((c) => c.running).map((c) => storage.child<ThreadHost>(c.id))
    handOverOnRemoval = handOver
    const removeMember = async (id: number): Promise<void> => {
      if (!Number.isSafeInteger(id) || id <= 0) throw new TroupeError('INVALID_ARGUMENT', `a node id is a positive integer, got ${String(id)}`)
      // Shard 0's leader decides, one membership change at a time.
      await gateway.call(0, { type: 'remove-member', id }, config.requestTimeoutMs)
      dropMember(id)
    }
    return new TroupeNode(identity.nodeId, system, gateway, { handOver, close, removeMember }, router?.address ?? config.peer, router, { wal: walRef as ActorRef<WalWriterMsg, WalWriterReply>, threads: runningThreads })
  } catch (error) {
    await system.shutdown()
    await router?.close()
    throw error
  }
}

function shardSpec(
  shard: number,
  voters: number[],
  bootstrap: boolean,
  identity: NodeIdentity,
  config: ResolvedNodeOptions,
  dataDir: string,
  wal: ActorRef<unknown, unknown>,
  gateway: ActorRef<unknown, unknown>,
  router: ActorRef<unknown, unknown> | undefined,
): RemoteChildSpec {
  const args: ShardActorArgs = {
    shard,
    nodeId: identity.nodeId,
    voters,
    ...(router ? { router: router.address } : {}),
    snapshotDir: join(dataDir, 'snapshots'),
    wal: wal.address,
    gateway: gateway.address,
    tickMs: config.tickMs,
    seed: randomInt(2 ** 31),
    replica: {
      electionTicks: config.electionTicks,
      snapshotEveryEntries: config.snapshotEveryEntries,
      snapshotEveryBytes: config.snapshotEveryBytes,
      entriesKeptAfterSnapshot: config.entriesKeptAfterSnapshot,
      bytesKeptAfterSnapshot: config.bytesKeptAfterSnapshot,
      balanceLeader: config.balanceLeaders,
      readOnly: config.readOnly,
      bootstrap,
    },
  }
  return {
    id: `shard-${shard}`,
    definition: { module: shardActorModule, export: 'shardActor', args },
    mailbox: { capacity: 100_000 },
    shutdownMs: 5_000,
  }
}

async function waitForLeaders(gateway: Gateway, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let shard = 0; shard < gateway.shardCount; shard++) {
    if (!gateway.shards[shard]) continue
    for (;;) {
      signal.throwIfAborted()
      const status = await gateway.status(shard)
      if (status.ready) break
      if (Date.now() > deadline) throw new Error(`shard ${shard} elected no leader within ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

/** The shard count is fixed when the cluster is created; a later start keeps it. Undefined for a new directory. */
async function readIdentity(dataDir: string, config: ResolvedNodeOptions): Promise<NodeIdentity | undefined> {
  const path = join(dataDir, 'node.json')
  try {
    const stored = JSON.parse(await readFile(path, 'utf8')) as NodeIdentity
    if (stored.nodeId !== config.id) {
      throw new Error(`data directory ${dataDir} belongs to node ${stored.nodeId}, not node ${config.id}`)
    }
    return stored
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    return undefined
  }
}

async function writeIdentity(dataDir: string, identity: NodeIdentity): Promise<void> {
  const path = join(dataDir, 'node.json')
  await writeFile(`${path}.tmp`, JSON.stringify(identity) + '\n')
  await rename(`${path}.tmp`, path)
}

/**
 * Once the node takes no new requests, the proposals already made are given
 * up to 2 s to be applied (committed by this node or, after a hand-over, by
 * the next leader), so that their callers hear the outcome instead of
 * TIMEOUT. Whatever is still pending then fails with TIMEOUT as the shards stop.
 */
async function finishInFlight(gateway: Gateway, log: Logger): Promise<void> {
  const deadline = Date.now() + 2_000
  let pending = 0
  do {
    pending = 0
    for (let shard = 0; shard < gateway.shardCount; shard++) {
      if (!gateway.shards[shard]) continue
      const status = await gateway.status(shard).catch(() => undefined)
      pending += status?.pendingProposals ?? 0
    }
    if (pending === 0) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  } while (Date.now() < deadline)
  log.warn({ pendingProposals: pending }, 'stopping with proposals whose outcome is not known yet')
}

/**
 * Before a cluster node stops, the shards it leads move to another replica,
 * so clients see a leader change, not an election timeout. Bounded: whatever
 * has not moved after 3 s is left to the election.
 */
async function handOverLeadership(
  gateway: Gateway,
  replicas: (shard: number) => number[],
  self: number,
  takesLeadership: (id: number) => boolean,
  log: Logger,
): Promise<void> {
  const deadline = Date.now() + 3_000
  // A replica that can take the shard (the Raft core hands over only once it has every entry).
  const successor = (shard: number) => replicas(shard).find((id) => id !== self && takesLeadership(id))
  const moving = new Map<number, number>()
  const led: number[] = []
  for (let shard = 0; shard < gateway.shardCount; shard++) {
    if (!gateway.shards[shard]) continue
    const status = await gateway.status(shard).catch(() => undefined)
    if (status?.leader !== self) continue
    const to = successor(shard)
    if (to === undefined) continue
    await gateway.callLocal(shard, { type: 'transfer', to }, 1_000)
    moving.set(shard, to)
    led.push(shard)
  }
  while (moving.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (const [shard, to] of moving) {
      const status = await gateway.status(shard).catch(() => undefined)
      if (status === undefined || status.leader !== self) {
        moving.delete(shard)
        continue
      }
      if (takesLeadership(to)) continue
      // The successor is stopping too (or went away): try another, else leave the shard to an election.
      const next = successor(shard)
      if (next === undefined) moving.delete(shard)
      else {
        await gateway.callLocal(shard, { type: 'transfer', to: next }, 1_000)
        moving.set(shard, next)
      }
    }
  }
  if (led.length > 0) log.info({ shards: led }, 'handed leadership over')
}
