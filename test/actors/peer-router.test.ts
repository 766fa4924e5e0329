// PeerRouter: a forwarded request whose node goes away ends when the link
// drops, not at its deadline; reads may be asked again (UNAVAILABLE), writes
// have an unknown outcome (TIMEOUT).
import pino from 'pino'
import t from 'tap'
import type { Gateway } from '../../actors/gateway.js'
import { PeerRouter } from '../../actors/peer-router.js'
import type { ShardMsg } from '../../actors/shard-actor.js'
import type { ShardReply } from '../../actors/shard-replica.js'
import { waitFor, type TestScope } from '../net/helpers.js'

const logger = pino({ level: 'silent' })

/** A gateway whose replicas take every request and never answer, as a node that is about to die. */
function silentGateway(): { gateway: Gateway; asked: ShardMsg[]; forgotten: number[] } {
  const asked: ShardMsg[] = []
  const forgotten: number[] = []
  const gateway = {
    shards: [],
    forgetNode: (id: number) => forgotten.push(id),
    callLocal: (_shard: number, msg: ShardMsg): Promise<ShardReply<unknown>> => {
      asked.push(msg)
      return new Promise(() => {})
    },
  } as unknown as Gateway
  return { gateway, asked, forgotten }
}

async function pair(t: TestScope, local = silentGateway()) {
  const remote = silentGateway()
  // Node 1 dials node 2 (the lower id dials), so node 2 needs no address for node 1.
  const router2 = new PeerRouter({ localId: 2, listen: '127.0.0.1:0', peers: new Map([[1, '127.0.0.1:1']]), secret: 's', logger }, remote.gateway)
  await router2.start()
  const router1 = new PeerRouter(
    { localId: 1, listen: '127.0.0.1:0', peers: new Map([[2, router2.address]]), secret: 's', logger },
    local.gateway,
  )
  await router1.start()
  t.teardown(async () => {
    await router1.close()
    await router2.close()
  })
  await waitFor('link up', () => router1.peers()[0]!.state === 'up')
  return { router1, router2, remote }
}

t.test('requests forwarded to a node whose link drops end at once: reads UNAVAILABLE, writes TIMEOUT', async (t) => {
  const { router1, router2, remote } = await pair(t)
  const timeoutMs = 60_000
  const write = router1.forward(2, 0, { type: 'propose', command: { type: 'kv.delete', key: 'k' } as never }, timeoutMs)
  const read = router1.forward(2, 0, { type: 'get', key: 'k', stale: false }, timeoutMs)
  const receive = router1.forward(2, 0, { type: 'receive', command: { type: 'queue.receive', queue: 'q', max: 1 } as never, waitMs: 20_000 }, timeoutMs)
  await waitFor('the remote node holds all three', () => remote.asked.length === 3)

  const started = Date.now()
  await router2.close()
  const [w, r, rc] = await Promise.all([write, read, receive])
  t.ok(Date.now() - started < 5_000, 'answered when the link dropped, long before the 60 s deadline')
  t.match(w, { ok: false, error: { code: 'TIMEOUT', message: /link to node 2 was lost.*outcome is unknown/ } })
  t.match(r, { ok: false, error: { code: 'UNAVAILABLE', message: /link to node 2 was lost/ } })
  t.match(rc, { ok: false, error: { code: 'UNAVAILABLE' } })
  t.equal(router1.peers()[0]!.state, 'down')
})

t.test('a forwarded send whose every message has a dedupId may be run again when the link drops; one without is not', async (t) => {
  const { router1, router2, remote } = await pair(t)
  const send = (dedupIds: (string | undefined)[]): ShardMsg => ({
    type: 'propose',
    command: { type: 'queue.send', queue: 'q', messages: dedupIds.map((dedupId) => ({ body: 'b', ...(dedupId ? { dedupId } : {}) })) } as never,
  })
  const deduplicated = router1.forward(2, 0, send(['a', 'b']), 60_000)
  const mixed = router1.forward(2, 0, send(['c', undefined]), 60_000)
  await waitFor('the remote node holds both', () => remote.asked.length === 2)
  await router2.close()
  t.match(await deduplicated, { ok: false, error: { code: 'UNAVAILABLE' } }, 'the gateway retries it on the next leader')
  t.match(await mixed, { ok: false, error: { code: 'TIMEOUT' } })
})

t.test('a request to a node whose link is down fails UNAVAILABLE without waiting', async (t) => {
  const { router1, router2 } = await pair(t)
  await router2.close()
  await waitFor('link down', () => router1.peers()[0]!.state === 'down')
  const reply = await router1.forward(2, 0, { type: 'get', key: 'k', stale: false }, 60_000)
  t.match(reply, { ok: false, error: { code: 'UNAVAILABLE', message: /not reachable/ } })
})

t.test('when the link to a node drops, every local shard replica is told once', async (t) => {
  const local = silentGateway()
  const told: { shard: number; msg: ShardMsg }[] = []
  local.gateway.shards = [0, 1, 2].map((shard) => ({ tell: (msg: ShardMsg) => Boolean(told.push({ shard, msg })) })) as never
  const { router1, router2 } = await pair(t, local)
  t.same(told, [], 'nothing while the link comes up')
  await router2.close()
  await waitFor('link down', () => router1.peers()[0]!.state === 'down')
  // The link keeps redialing (and failing) meanwhile: still one notice per replica.
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(
    told,
    [0, 1, 2].map((shard) => ({ shard, msg: { type: 'peer-down', node: 2 } })),
  )
  t.same(local.forgotten, [2], 'the gateway sends nothing more to node 2 on an old leader guess')
})

t.test('a node that says it is stopping is forgotten as a leader guess before its link drops', async (t) => {
  const local = silentGateway()
  const { router1, router2 } = await pair(t, local)
  router2.announceLeaving()
  await waitFor('the leaving notice', () => router1.peers()[0]!.leaving === true)
  t.same(local.forgotten, [2])
  t.equal(router1.peers()[0]!.state, 'up')
})

t.test('the address a router names for itself is one a peer can dial: an IPv6 host in brackets', async (t) => {
  const router = new PeerRouter({ localId: 1, listen: '[::1]:0', peers: new Map(), secret: 's', logger }, silentGateway().gateway)
  await router.start()
  t.teardown(() => router.close())
  t.match(router.address, /^\[::1\]:\d+$/)
})

t.test('a removed peer is forgotten at once; its link stays a moment for the answers on their way to it, then closes', async (t) => {
  const local = silentGateway()
  const { router1, router2, remote } = await pair(t, local)
  // Node 2 asked node 1 something just before node 1 removed it: the answer must still reach node 2.
  let answered: unknown
  local.gateway.callLocal = async () => {
    router1.removePeer(2)
    return { ok: true, value: 'removed' }
  }
  void router2.forward(1, 0, { type: 'status' }, 5_000).then((reply) => (answered = reply))
  await waitFor('node 2 has its answer', () => answered !== undefined)
  t.same(answered, { ok: true, value: 'removed' })
  t.same(local.forgotten, [2], 'forgotten as a leader guess at once')
  t.same(router1.peers(), [], 'no longer a peer')
  await waitFor('the link closes', () => remote.forgotten.includes(1), 5_000)
})
