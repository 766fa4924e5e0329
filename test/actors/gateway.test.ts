// The gateway routes a request to its shard's leader: it remembers which node
// answered as leader (or was named leader) and goes there first next time,
// so a request on a follower's node is forwarded without asking the local
// replica first. Fake shard refs and a fake forward count who was asked.
import t from 'tap'
import { pino } from 'pino'
import { Gateway, gatewayDefaults } from '../../actors/gateway.js'
import type { ShardAnswer, ShardMsg } from '../../actors/shard-actor.js'
import type { ShardReply } from '../../actors/shard-replica.js'
import type { ActorRef } from '../../src/runtime/index.js'

const notLeader = (leaderId: number): ShardReply<unknown> => ({ ok: false, error: { code: 'NOT_LEADER', message: 'not the leader', leaderId } })

function setup() {
  const gateway = new Gateway(1, () => [1, 2, 3], { ...gatewayDefaults, retryInitialMs: 1 }, pino({ level: 'silent' }))
  gateway.shardCount = 1
  const asked: string[] = []
  let local: (msg: ShardMsg) => ShardReply<unknown> = () => notLeader(2)
  let remote: (to: number, msg: ShardMsg) => ShardReply<unknown> = () => ({ ok: true, value: 'remote' })
  const ref = {
    ask: async (msg: ShardMsg) => {
      asked.push('local')
      return local(msg)
    },
  }
  gateway.shards = [ref as unknown as ActorRef<ShardMsg, ShardAnswer>]
  gateway.forward = async (to, _shard, msg) => {
    asked.push(`node ${to}`)
    return remote(to, msg)
  }
  return {
    gateway,
    asked,
    setLocal: (f: typeof local) => (local = f),
    setRemote: (f: typeof remote) => (remote = f),
  }
}

const get = (stale = false): ShardMsg => ({ type: 'get', key: 'k', stale })

t.test('after one NOT_LEADER, requests go straight to the leader it named', async (t) => {
  const s = setup()
  t.equal(await s.gateway.call(0, get(), 1_000), 'remote')
  t.same(s.asked, ['local', 'node 2'], 'the first request learns the leader from the local replica')
  s.asked.length = 0
  t.equal(await s.gateway.call(0, get(), 1_000), 'remote')
  t.equal(await s.gateway.call(0, get(), 1_000), 'remote')
  t.same(s.asked, ['node 2', 'node 2'], 'later ones are forwarded at once')
})

t.test('a leader that moved is followed, here or elsewhere', async (t) => {
  const s = setup()
  await s.gateway.call(0, get(), 1_000)
  s.asked.length = 0
  s.setRemote((to) => (to === 2 ? notLeader(1) : { ok: true, value: 'remote' }))
  s.setLocal(() => ({ ok: true, value: 'local' }))
  t.equal(await s.gateway.call(0, get(), 1_000), 'local')
  t.equal(await s.gateway.call(0, get(), 1_000), 'local')
  t.same(s.asked, ['node 2', 'local', 'local'], 'the new leader (this node) is asked directly from then on')
  s.asked.length = 0
  s.setLocal(() => notLeader(3))
  t.equal(await s.gateway.call(0, get(), 1_000), 'remote')
  t.equal(await s.gateway.call(0, get(), 1_000), 'remote')
  t.same(s.asked, ['local', 'node 3', 'node 3'])
})

t.test('an unreachable guessed leader is forgotten', async (t) => {
  const s = setup()
  await s.gateway.call(0, get(), 1_000)
  s.asked.length = 0
  s.setRemote((to) => (to === 2 ? { ok: false, error: { code: 'UNAVAILABLE', message: 'link down' } } : { ok: true, value: 'remote' }))
  s.setLocal(() => ({ ok: true, value: 'local' }))
  t.equal(await s.gateway.call(0, get(), 1_000), 'local', 'retried on the local replica')
  t.same(s.asked, ['node 2', 'local'])
})

t.test('a stale read stays on the local replica whatever the guess', async (t) => {
  const s = setup()
  await s.gateway.call(0, get(), 1_000)
  s.asked.length = 0
  s.setLocal(() => ({ ok: true, value: 'local' }))
  t.equal(await s.gateway.call(0, get(true), 1_000), 'local')
  t.same(s.asked, ['local'])
  s.asked.length = 0
  t.equal(await s.gateway.call(0, get(), 1_000), 'remote', 'and does not change where linearizable requests go')
  t.same(s.asked, ['node 2'])
})
