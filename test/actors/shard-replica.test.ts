// ShardReplica driven with fake ports (an in-memory WAL that is durable at
// once, a message shuttle the test controls): what a proposal's caller hears
// when the replica that took it loses leadership.
import pino from 'pino'
import t from 'tap'
import { ShardReplica, shardReplicaDefaults, snapshotHeadStart, type ShardReplicaOptions, type ShardReply } from '../../actors/shard-replica.js'
import type { ShardCommand } from '../../src/machines/index.js'
import type { Message } from '../../src/raft/index.js'
import type { ShardWrite } from '../../src/wal/index.js'

interface Cluster {
  replicas: Map<number, ShardReplica>
  /** Every WAL write of each replica, in order. */
  writes: Map<number, ShardWrite[]>
  outbox: Message[]
  /** Delivers queued messages for which `allow` holds (the rest are lost), until none are left. */
  flush(allow?: (m: Message) => boolean): Promise<void>
  /** Ticks the given replicas once each and delivers what that causes. */
  tick(ids: number[], allow?: (m: Message) => boolean): Promise<void>
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** WAL writes of the replicas in `held` wait until the test calls `release()`. */
interface WalGate {
  held: Set<number>
  waiting: (() => void)[]
  release(): void
}

function walGate(): WalGate {
  const gate: WalGate = {
    held: new Set(),
    waiting: [],
    release: () => {
      for (const go of gate.waiting.splice(0)) go()
    },
  }
  return gate
}

/** `reachable`: which messages of the start-up (the first campaign) get through; all by default. */
async function startCluster(
  options: Partial<ShardReplicaOptions> = {},
  saved: Uint8Array[] = [],
  gate = walGate(),
  reachable: (m: Message) => boolean = () => true,
  departures: [number, number][] = [],
): Promise<Cluster> {
  const outbox: Message[] = []
  const replicas = new Map<number, ShardReplica>()
  const writes = new Map<number, ShardWrite[]>()
  for (const id of [1, 2, 3]) {
    writes.set(id, [])
    const replica = new ShardReplica(
      { ...shardReplicaDefaults, shard: 0, nodeId: id, voters: [1, 2, 3], seed: id, balanceLeader: false, ...options },
      {
        wal: {
          append: async (write) => {
            writes.get(id)!.push(write)
            if (gate.held.has(id)) await new Promise<void>((resolve) => gate.waiting.push(resolve))
            return { shard: write.shard, durableIndex: write.entries?.at(-1)?.index ?? 0 }
          },
          state: async (shard) => ({ shard, snapshotIndex: 0, snapshotTerm: 0, firstIndex: 1, lastIndex: 0, lastTerm: 0, hardState: undefined }),
          read: async () => [],
        },
        snapshots: {
          save: async (_meta, payload) => {
            if (id === 1) saved.push(payload)
          },
          load: async () => undefined,
        },
        send: (messages) => outbox.push(...messages),
        deadLetter: () => undefined,
        departed: (gone) => departures.push([id, gone]),
        fail: (error) => {
          throw error
        },
        log: pino({ level: 'silent' }),
        nowMs: () => 1_000_000,
      },
    )
    replicas.set(id, replica)
  }
  const flush = async (allow: (m: Message) => boolean = () => true) => {
    for (let idle = 0; idle < 5; ) {
      await turn()
      const batch = outbox.splice(0)
      if (batch.length === 0) {
        idle++
        continue
      }
      idle = 0
      for (const message of batch) if (allow(message)) replicas.get(message.to)!.step([message])
    }
  }
  const cluster: Cluster = {
    replicas,
    writes,
    outbox,
    flush,
    tick: async (ids, allow) => {
      for (const id of ids) replicas.get(id)!.tick()
      await flush(allow)
    },
  }
  for (const replica of replicas.values()) await replica.recover()
  await flush(reachable)
  return cluster
}

const put = (key: string) => ({ type: 'kv.put' as const, key, value: new TextEncoder().encode('v') })
const among = (ids: number[]) => (m: Message) => ids.includes(m.from) && ids.includes(m.to)

/** Ticks replicas 2 and 3, cut off from 1, until one of them leads. */
async function electWithout1(cluster: Cluster): Promise<number> {
  for (let i = 0; i < 200; i++) {
    await cluster.tick([2, 3], among([2, 3]))
    for (const id of [2, 3]) if (cluster.replicas.get(id)!.isLeader) return id
  }
  throw new Error('no leader among 2 and 3')
}

/** Proposes on `replica` and delivers every message that causes; resolves with the reply. */
async function proposeAndFlush(cluster: Cluster, replica: ShardReplica, command: ShardCommand): Promise<ShardReply<unknown>> {
  const reply = replica.propose(command)
  await cluster.flush()
  return reply
}

/** Settles with the reply, or 'pending' if there is none yet. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, turn().then(() => 'pending' as const)])
}

t.test('replica 1 leads first', async (t) => {
  const cluster = await startCluster()
  t.ok(cluster.replicas.get(1)!.isLeader)
  t.notOk(cluster.replicas.get(2)!.isLeader)
})

t.test('a proposal the next leader commits is answered as a success by the old leader', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  const proposal = r1.propose(put('a'))
  // The entry reaches replica 2 only, and its answer is lost: nothing commits under leader 1.
  await cluster.flush((m) => m.from === 1 && m.to === 2)
  t.equal(await peek(proposal), 'pending')
  const leader = await electWithout1(cluster)
  t.equal(leader, 2, 'replica 2 holds the entry, so it wins')
  // Reconnected: replica 1 hears the new term (it stops leading), then the commit.
  for (let i = 0; i < 5; i++) await cluster.tick([2])
  t.notOk(r1.isLeader)
  const reply = (await proposal) as ShardReply<{ version: number }>
  t.match(reply, { ok: true, value: { version: Number } }, 'committed under leader 2 and applied by replica 1: a success, not TIMEOUT')
})

t.test('a proposal that another entry replaced is answered UNAVAILABLE (known not applied)', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  const proposal = r1.propose(put('b'))
  await cluster.flush(() => false) // the entry reaches nobody
  await electWithout1(cluster)
  for (let i = 0; i < 5; i++) await cluster.tick([2, 3])
  t.notOk(r1.isLeader)
  t.match(await proposal, { ok: false, error: { code: 'UNAVAILABLE', message: /overwritten/ } })
})

t.test('proposals past the end of a new leader log are refused when the old leader leads again', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  const proposals = [r1.propose(put('c1')), r1.propose(put('c2')), r1.propose(put('c3'))]
  await cluster.flush(() => false) // they reach nobody
  const leader = await electWithout1(cluster)
  // Everyone hears the new leader: replica 1 drops its three entries for the new leader's one.
  for (let i = 0; i < 5; i++) await cluster.tick([leader])
  const early = await Promise.all(proposals.map(peek))
  t.match(early[0], { ok: false, error: { code: 'UNAVAILABLE' } }, 'the first was replaced by the new leader entry')
  t.same(early.slice(1), ['pending', 'pending'], 'the others are past the end of the log and wait')
  // Replica 1 leads again: the two waiting proposals can never commit.
  t.ok(cluster.replicas.get(leader)!.transferLeadership(1).ok)
  await cluster.flush()
  for (let i = 0; i < 5; i++) await cluster.tick([1])
  t.ok(r1.isLeader)
  const settled = await Promise.all(proposals.slice(1).map(peek))
  for (const reply of settled) t.match(reply, { ok: false, error: { code: 'UNAVAILABLE' } })
  // And the replica goes on: a new proposal commits.
  const next = r1.propose(put('d'))
  await cluster.flush()
  t.match(await next, { ok: true })
})

t.test('a snapshot is msgpack {c: membership, a: addresses, r: removed, m: machine} in canonical form, taken while proposals go on', async (t) => {
  const { Packr, Unpackr } = await import('msgpackr')
  const { ShardMachine } = await import('../../src/machines/index.js')
  const saved: Uint8Array[] = []
  const cluster = await startCluster({ snapshotEveryEntries: 50 }, saved)
  const r1 = cluster.replicas.get(1)!
  t.match(await proposeAndFlush(cluster, r1, { type: 'queue.create', queue: 'q', config: {} }), { ok: true })
  const body = new Uint8Array(300).fill(5)
  for (let i = 0; i < 60; i++) {
    const sent = r1.propose({ type: 'queue.send', queue: 'q', messages: [{ body }] })
    await cluster.flush()
    t.match(await sent, { ok: true })
  }
  for (let i = 0; i < 20 && saved.length === 0; i++) await turn()
  t.ok(saved.length >= 1, 'a snapshot was saved')
  const payload = Buffer.from(saved[0]!)
  const decoded = new Unpackr({ useRecords: false }).unpack(payload) as { c: { voters: number[] }; m: Uint8Array }
  t.same(decoded.c.voters, [1, 2, 3])
  t.ok(Buffer.from(new Packr({ useRecords: false }).pack(decoded)).equals(payload), 'the bytes msgpackr writes for that object')
  const machine = ShardMachine.restore(decoded.m)
  t.ok(machine.queueStats('q')!.visible >= 40, 'the machine as it was at the snapshot index')
})

t.test('a replica of a stopping node refuses leadership handed to it; without leave() it takes it', async (t) => {
  for (const leaving of [true, false]) {
    const cluster = await startCluster()
    const r1 = cluster.replicas.get(1)!
    const leader = await electWithout1(cluster)
    for (let i = 0; i < 5; i++) await cluster.tick([leader])
    t.notOk(r1.isLeader)
    if (leaving) r1.leave()
    t.ok(cluster.replicas.get(leader)!.transferLeadership(1).ok)
    for (let i = 0; i < 3 * shardReplicaDefaults.electionTicks; i++) await cluster.tick([leader])
    if (leaving) {
      t.notOk(r1.isLeader, 'the leaving replica did not take leadership')
      t.ok(cluster.replicas.get(leader)!.isLeader, 'the transfer was given up and the leader kept its role')
    } else {
      t.ok(r1.isLeader, 'control: the same transfer to a replica that is not leaving succeeds')
    }
  }
})

t.test('a leader sends its appends while its own write is under way; nothing is applied or acknowledged before the writes end', async (t) => {
  const gate = walGate()
  const cluster = await startCluster({}, [], gate)
  const r1 = cluster.replicas.get(1)!
  t.ok(r1.isLeader)
  gate.held.add(1)
  gate.held.add(2)
  const proposal = r1.propose(put('early'))
  await turn()
  await turn()
  const appends = cluster.outbox.splice(0).filter((m) => m.type === 'app' && m.entries.length > 0)
  t.same(
    appends.map((m) => m.to).sort(),
    [2, 3],
    'the entry went to both followers before the leader wrote it',
  )
  t.equal(gate.waiting.length, 1, "the leader's write is still waiting")
  for (const m of appends) cluster.replicas.get(m.to)!.step([m])
  for (let i = 0; i < 3; i++) await turn()
  const answers = cluster.outbox.splice(0)
  t.same(
    answers.filter((m) => m.type === 'appResp').map((m) => m.from),
    [3],
    'a follower answers only once its own write is done (2 is held)',
  )
  for (const m of answers) cluster.replicas.get(m.to)!.step([m])
  for (let i = 0; i < 3; i++) await turn()
  t.equal(await peek(proposal), 'pending', "committed by 1's entry and 3's answer, but not applied while 1's write is held")
  gate.held.clear()
  gate.release()
  await cluster.flush()
  t.match(await proposal, { ok: true }, 'applied and answered once the leader wrote it')
})

t.test('the shards of a node start at different points of their snapshot period', async (t) => {
  const every = 20_000
  const starts = Array.from({ length: 8 }, (_, shard) => snapshotHeadStart(shard, every))
  t.equal(starts[0], 0)
  t.ok(starts.every((s) => s >= 0 && s < every), 'each within one period')
  const sorted = [...starts].sort((a, b) => a - b)
  const gaps = sorted.map((s, i) => (i + 1 < sorted.length ? sorted[i + 1]! : every) - s)
  t.ok(Math.min(...gaps) >= every / 16, `8 shards at least 1/16 of a period apart (gaps ${gaps.join(', ')})`)
})

t.test('a proposal made during a leadership handover waits, then is answered NOT_LEADER naming the new leader', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  t.ok(r1.transferLeadership(2).ok)
  const proposal = r1.propose(put('during'))
  t.equal(await peek(proposal), 'pending', 'not refused while the handover is under way')
  t.equal(r1.status().pendingProposals, 1, 'the held proposal counts as pending')
  await cluster.flush()
  for (let i = 0; i < 3; i++) await cluster.tick([2])
  t.ok(cluster.replicas.get(2)!.isLeader)
  t.match(await proposal, { ok: false, error: { code: 'NOT_LEADER', leaderId: 2 } }, 'the caller goes to the new leader at once')
  t.equal(r1.status().pendingProposals, 0)
  // Nothing of the held proposal reached the log: the new leader has no such key.
  const read = cluster.replicas.get(2)!.read('during', false)
  await cluster.flush()
  t.match(await read, { ok: true, value: null })
})

t.test('a proposal held during a handover that fails is proposed again and commits', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  const away = (m: Message) => m.to !== 2 && m.from !== 2
  t.ok(r1.transferLeadership(2).ok)
  const proposal = r1.propose(put('after'))
  await cluster.flush(away) // replica 2 never hears of the handover
  t.equal(await peek(proposal), 'pending')
  // The core gives the handover up after an election timeout; replica 3 keeps the quorum.
  for (let i = 0; i < 2 * shardReplicaDefaults.electionTicks && (await peek(proposal)) === 'pending'; i++) await cluster.tick([1, 3], away)
  t.ok(r1.isLeader, 'replica 1 kept leadership')
  t.match(await proposal, { ok: true, value: { version: Number } }, 'the held proposal was proposed again and applied')
  const read = r1.read('after', false)
  await cluster.flush(away)
  t.match(await read, { ok: true, value: { version: Number } })
})

t.test('a replica that stops answers its held proposals UNAVAILABLE', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  t.ok(r1.transferLeadership(2).ok)
  const proposal = r1.propose(put('closing'))
  t.equal(await peek(proposal), 'pending')
  r1.close()
  t.match(await proposal, { ok: false, error: { code: 'UNAVAILABLE', message: /stopped/ } })
})

t.test('the preferred replica campaigns again every 2 ticks while it starts and knows no leader', async (t) => {
  // Its first campaign is lost (the peer links were not up yet).
  const cluster = await startCluster({}, [], walGate(), () => false)
  const r1 = cluster.replicas.get(1)!
  t.notOk(r1.isLeader, 'the lost campaign elected no one')
  await cluster.tick([1, 2, 3])
  t.notOk(r1.isLeader)
  await cluster.tick([1, 2, 3])
  t.ok(r1.isLeader, 'elected at the second tick, long before any election timeout (10 ticks or more)')
  for (const id of [2, 3]) t.equal(cluster.replicas.get(id)!.status().leader, 1)
  t.equal(r1.status().term, 2, 'one term was spent: the retries were pre-votes')
})

t.test('a replica that is not preferred waits for its election timeout at start', async (t) => {
  // Replica 1 (preferred) never gets through: replicas 2 and 3 elect one of them, but only after an election timeout.
  const cluster = await startCluster({}, [], walGate(), () => false)
  for (let i = 0; i < shardReplicaDefaults.electionTicks - 1; i++) await cluster.tick([2, 3], among([2, 3]))
  t.notOk(cluster.replicas.get(2)!.isLeader || cluster.replicas.get(3)!.isLeader, 'no early campaign from 2 or 3')
  await electWithout1(cluster)
})

t.test('a proposal that reaches the old leader after it stepped down, before it heard the winner, waits for the winner', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  t.ok(r1.transferLeadership(2).ok)
  // Replica 2 wins, but its appends and heartbeats to replica 1 are lost for now.
  await cluster.flush((m) => !(m.from === 2 && m.to === 1 && (m.type === 'app' || m.type === 'heartbeat')))
  t.ok(cluster.replicas.get(2)!.isLeader)
  t.notOk(r1.isLeader)
  t.equal(r1.status().leader, 0, 'replica 1 stepped down and knows no leader yet')
  const proposal = r1.propose(put('between'))
  t.equal(await peek(proposal), 'pending', 'not refused as UNAVAILABLE')
  await cluster.tick([2])
  t.match(await proposal, { ok: false, error: { code: 'NOT_LEADER', leaderId: 2 } })
})

t.test('a follower that never led and knows no leader still refuses at once', async (t) => {
  const cluster = await startCluster({}, [], walGate(), () => false)
  const r2 = cluster.replicas.get(2)!
  t.equal(r2.status().leader, 0)
  t.match(await peek(r2.propose(put('nobody'))), { ok: false, error: { code: 'UNAVAILABLE', message: /no leader/ } })
})

t.test('an old leader cut off from the others holds proposals for two election timeouts at most, then refuses at once', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  const cutOff = (m: Message) => m.from !== 1 && m.to !== 1
  // Hearing no one, replica 1 steps down at its next check of the quorum.
  for (let i = 0; i < 3 * shardReplicaDefaults.electionTicks && r1.isLeader; i++) await cluster.tick([1], cutOff)
  t.notOk(r1.isLeader)
  const held = r1.propose(put('cut-off'))
  t.equal(await peek(held), 'pending', 'held: the winner may be about to speak')
  for (let i = 0; i <= 2 * shardReplicaDefaults.electionTicks; i++) await cluster.tick([1], cutOff)
  t.match(await held, { ok: false, error: { code: 'UNAVAILABLE', message: /no leader/ } })
  t.match(await peek(r1.propose(put('later'))), { ok: false, error: { code: 'UNAVAILABLE' } }, 'refused at once from then on')
})

t.test('linearizable reads that the old leader had not answered, or that come before it hears the winner, wait for the winner', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  const written = r1.propose(put('k'))
  await cluster.flush()
  t.match(await written, { ok: true })
  const pending = r1.read('k', false) // needs a heartbeat round that will not come back
  t.ok(r1.transferLeadership(2).ok)
  await cluster.flush((m) => !(m.to === 1 && (m.type === 'heartbeatResp' || (m.from === 2 && (m.type === 'app' || m.type === 'heartbeat')))))
  t.ok(cluster.replicas.get(2)!.isLeader)
  t.equal(r1.status().leader, 0, 'replica 1 stepped down and knows no leader yet')
  t.equal(await peek(pending), 'pending', 'the read in flight is not refused as UNAVAILABLE')
  const later = r1.read('k', false)
  t.equal(await peek(later), 'pending', 'nor is a read that comes now')
  await cluster.tick([2])
  for (const read of [pending, later]) t.match(await read, { ok: false, error: { code: 'NOT_LEADER', leaderId: 2 } })
})

t.test('followers whose leader connection closed elect a new leader at the next tick, in order of preference', async (t) => {
  const cluster = await startCluster()
  const [r2, r3] = [cluster.replicas.get(2)!, cluster.replicas.get(3)!]
  const term = r2.status().term
  r2.peerDown(1)
  r3.peerDown(1)
  t.equal(r2.status().leader, 0, 'the dead leader is forgotten')
  const held = r3.propose(put('during'))
  t.equal(await peek(held), 'pending', 'a proposal to a follower waits for the winner')
  await cluster.tick([2, 3], among([2, 3]))
  t.ok(r2.isLeader, 'replica 2, first in preference after 1, won at once')
  t.equal(r2.status().term, term + 1)
  t.match(await held, { ok: false, error: { code: 'NOT_LEADER', leaderId: 2 } })
  const proposal = r2.propose(put('after'))
  await cluster.flush(among([2, 3]))
  t.match(await proposal, { ok: true })
})

t.test('a replica of a stopping node does not campaign when its leader connection closes; the next in preference does', async (t) => {
  const cluster = await startCluster()
  const [r2, r3] = [cluster.replicas.get(2)!, cluster.replicas.get(3)!]
  r2.leave()
  r2.peerDown(1)
  r3.peerDown(1)
  for (let i = 0; i < 3; i++) await cluster.tick([2, 3], among([2, 3]))
  t.notOk(r2.isLeader)
  t.ok(r3.isLeader, 'replica 3 campaigned two ticks after replica 2 would have')
})

t.test('a follower that alone lost the connection to a live leader disrupts nothing', async (t) => {
  const cluster = await startCluster()
  const [r1, r3] = [cluster.replicas.get(1)!, cluster.replicas.get(3)!]
  const term = r1.status().term
  const not1and3 = (m: Message) => !((m.from === 1 && m.to === 3) || (m.from === 3 && m.to === 1))
  r3.peerDown(1)
  for (let i = 0; i < 5; i++) await cluster.tick([1, 2, 3], not1and3)
  t.ok(r1.isLeader, 'replica 2 still hears 1 and refused the pre-vote')
  t.equal(r1.status().term, term)
  t.equal(cluster.replicas.get(2)!.status().leader, 1)
})

t.test('a follower that loses its leader connection keeps the leader with lease-based reads', async (t) => {
  const cluster = await startCluster({ readOnly: 'lease-based' })
  const r2 = cluster.replicas.get(2)!
  // With leases, a replica that starts waits an election timeout before it votes.
  for (let i = 0; i < 3 * shardReplicaDefaults.electionTicks && !cluster.replicas.get(1)!.isLeader; i++) await cluster.tick([1, 2, 3])
  t.equal(r2.status().leader, 1)
  r2.peerDown(1)
  t.equal(r2.status().leader, 1, 'the old leader may still serve reads from its lease')
  await cluster.tick([2, 3], among([2, 3]))
  t.notOk(r2.isLeader)
})

t.test('entries of one Ready beyond 8 MiB go to the WAL as several writes, in order, the hard state with the last', async (t) => {
  const cluster = await startCluster()
  const r1 = cluster.replicas.get(1)!
  t.match(await proposeAndFlush(cluster, r1, { type: 'queue.create', queue: 'q', config: {} }), { ok: true })
  const writes = cluster.writes.get(1)!
  writes.length = 0
  // Three proposals of one turn (one Ready), each a batch of four 1 MB bodies: about 12 MB of entries.
  const body = new Uint8Array(1_000_000)
  const sends = [0, 1, 2].map(() => r1.propose({ type: 'queue.send', queue: 'q', messages: Array.from({ length: 4 }, () => ({ body })) }))
  await cluster.flush()
  for (const send of sends) t.match(await send, { ok: true, value: { ids: Array } })
  const large = writes.filter((write) => write.entries?.some((entry) => entry.payload.byteLength > 4_000_000))
  t.same(
    large.map((write) => write.entries!.length),
    [2, 1],
    'two entries (8 MB) in the first write, the third in the next',
  )
  const indexes = large.flatMap((write) => write.entries!.map((entry) => entry.index))
  t.same(indexes, [indexes[0], indexes[0]! + 1, indexes[0]! + 2], 'in log order')
  t.equal(large[0]!.hardState, undefined, 'no hard state before the last entries are written')
  t.ok(large[1]!.hardState, 'the hard state goes with the last')
  for (const write of large) {
    t.ok(write.entries!.reduce((sum, entry) => sum + entry.payload.byteLength, 0) <= 8 * 1024 * 1024, 'each within 8 MiB')
  }
})

t.test('a removed node leaves the members, is kept in snapshots as removed, and cannot join again', async (t) => {
  const { Unpackr } = await import('msgpackr')
  const saved: Uint8Array[] = []
  const departures: [number, number][] = []
  const cluster = await startCluster({ snapshotEveryEntries: 50 }, saved, walGate(), () => true, departures)
  const r1 = cluster.replicas.get(1)!
  t.match(await r1.removeMember(9), { ok: false, error: { code: 'INVALID_ARGUMENT', message: /node 9 is not a member/ } })
  t.match(await cluster.replicas.get(2)!.removeMember(3), { ok: false, error: { code: 'NOT_LEADER' } }, 'asked of the leader only')
  const removing = r1.removeMember(3)
  await cluster.flush()
  t.same(await removing, { ok: true, value: null })
  t.same(r1.status().members, [1, 2])
  t.same(await r1.removeMember(3), { ok: true, value: null }, 'asked again: done already')
  t.match(await r1.join(3, '127.0.0.1:1', 3), { ok: false, error: { code: 'CONFLICT', message: /node id 3 was removed/ } })
  t.match(await proposeAndFlush(cluster, r1, { type: 'queue.create', queue: 'q', config: {} }), { ok: true })
  for (let i = 0; i < 60; i++) t.match(await proposeAndFlush(cluster, r1, put(`k${i}`)), { ok: true })
  // Followers learn a commit with the next append: by now both applied the removal.
  for (const id of [1, 2]) t.ok(departures.some(([at, gone]) => at === id && gone === 3), `replica ${id} told its node that node 3 left`)
  for (let i = 0; i < 20 && saved.length === 0; i++) await turn()
  t.ok(saved.length >= 1, 'a snapshot was saved')
  const decoded = new Unpackr({ useRecords: false }).unpack(Buffer.from(saved.at(-1)!)) as { c: { voters: number[] }; r: number[] }
  t.same(decoded.c.voters, [1, 2])
  t.same(decoded.r, [3], 'the snapshot records node 3 as removed')
})

t.test('snapshots come by bytes too, and a follower further behind than the bytes kept catches up by snapshot', async (t) => {
  const saved: Uint8Array[] = []
  const cluster = await startCluster({ snapshotEveryBytes: 1_000_000, bytesKeptAfterSnapshot: 500_000 }, saved)
  const [r1, r3] = [cluster.replicas.get(1)!, cluster.replicas.get(3)!]
  t.match(await proposeAndFlush(cluster, r1, { type: 'queue.create', queue: 'q', config: {} }), { ok: true })
  const without3 = (m: Message) => m.to !== 3 && m.from !== 3
  const body = new Uint8Array(200_000)
  for (let i = 0; i < 15; i++) {
    const sent = r1.propose({ type: 'queue.send', queue: 'q', messages: [{ body }] })
    await cluster.flush(without3)
    t.match(await sent, { ok: true })
  }
  for (let i = 0; i < 50 && saved.length === 0; i++) await turn()
  t.ok(saved.length >= 1, 'a snapshot after about 1 MB applied (20,000 entries were far off)')
  for (let i = 0; i < 20; i++) await turn()
  for (let i = 0; i < 30 && r3.status().appliedIndex < r1.status().appliedIndex; i++) await cluster.tick([1, 2, 3])
  t.equal(r3.status().appliedIndex, r1.status().appliedIndex, 'replica 3 caught up')
  t.equal(r3.status().snapshotsInstalled, 1, 'by snapshot: the 3 MB it missed were not all kept behind the snapshot')
})

t.test('a state larger than snapshotEveryBytes is snapshotted again only after as many bytes as it holds', async (t) => {
  const { Unpackr } = await import('msgpackr')
  const { ShardMachine } = await import('../../src/machines/index.js')
  const saved: Uint8Array[] = []
  const cluster = await startCluster({ snapshotEveryBytes: 1_000_000 }, saved)
  const r1 = cluster.replicas.get(1)!
  t.match(await proposeAndFlush(cluster, r1, { type: 'queue.create', queue: 'q', config: {} }), { ok: true })
  const body = new Uint8Array(250_000)
  for (let i = 0; i < 40; i++) {
    const sent = r1.propose({ type: 'queue.send', queue: 'q', messages: [{ body }] })
    await cluster.flush()
    t.match(await sent, { ok: true })
    for (let turns = 0; turns < 10; turns++) await turn()
  }
  // Messages of 250 KB each in every snapshot: none is ever acked, so the state only grows.
  const held = saved.map((payload) => {
    const decoded = new Unpackr({ useRecords: false }).unpack(payload) as { m: Uint8Array }
    return ShardMachine.restore(decoded.m).queueStats('q')!.total
  })
  // The first after 1 MB (4 messages); each next one once the entries applied since hold as many bytes
  // as the snapshot before it. A message's entry is a few bytes smaller than its share of a snapshot,
  // so that takes one message more than the snapshot holds: 4, then 4 + 5, 9 + 10, 19 + 20.
  t.same(held, [4, 9, 19, 39])
})

t.test('a replica of a node that joined starts empty: no members, no log, no campaign, until its leader speaks', async (t) => {
  const standalone = async (bootstrap: boolean) => {
    const sent: Message[] = []
    const writes: ShardWrite[] = []
    const replica = new ShardReplica(
      // It is the preferred replica of its set, which would make an initial member campaign at once.
      { ...shardReplicaDefaults, shard: 0, nodeId: 3, voters: [3, 1, 2], seed: 3, bootstrap },
      {
        wal: {
          append: async (write) => {
            writes.push(write)
            return { shard: write.shard, durableIndex: write.entries?.at(-1)?.index ?? 0 }
          },
          state: async (shard) => ({ shard, snapshotIndex: 0, snapshotTerm: 0, firstIndex: 1, lastIndex: 0, lastTerm: 0, hardState: undefined }),
          read: async () => [],
        },
        snapshots: { save: async () => undefined, load: async () => undefined },
        send: (messages) => sent.push(...messages),
        deadLetter: () => undefined,
        fail: (error) => {
          throw error
        },
        log: pino({ level: 'silent' }),
        nowMs: () => 1_000_000,
      },
    )
    await replica.recover()
    for (let i = 0; i < 40; i++) {
      replica.tick()
      await turn()
    }
    const status = replica.status()
    replica.close()
    return { status, sent, writes }
  }
  const joined = await standalone(false)
  t.same(joined.status.members, [], 'no voters until a snapshot says who they are')
  t.equal(joined.status.lastIndex, 0)
  t.same(joined.sent, [], 'it never campaigns')
  t.same(joined.writes, [], 'and writes nothing')
  const initial = await standalone(true)
  t.same([...initial.status.members].sort(), [1, 2, 3], 'an initial member starts the group with its voters')
  t.ok(initial.sent.some((m) => m.type === 'preVote' || m.type === 'vote'), 'and campaigns')
})
