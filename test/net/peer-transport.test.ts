// PeerTransport: one connection per peer pair when every node dials at once,
// refusal of wrong-direction, unknown, unauthenticated and removed peers.
import t from 'tap'
import { dialPeer } from '../../src/net/dial-peer.js'
import type { NetError } from '../../src/net/net-error.js'
import { PeerTransport, type PeerTransportOptions } from '../../src/net/peer-transport.js'
import { waitFor, type TestScope } from './helpers.js'

interface Node {
  transport: PeerTransport
  received: Array<{ from: number; message: unknown }>
}

async function startNode(t: TestScope, localId: number, options: Partial<PeerTransportOptions> = {}): Promise<Node> {
  const received: Node['received'] = []
  const transport = await PeerTransport.start({
    localId,
    listen: '127.0.0.1:0',
    onMessages: (from, messages) => received.push(...messages.map((message) => ({ from, message }))),
    ...options,
  })
  t.teardown(() => transport.close())
  return { transport, received }
}

const addressOf = (node: Node): string => `127.0.0.1:${node.transport.address.port}`

t.test('three nodes that all add each other at once end with exactly one connection per pair', async (t) => {
  const secret = 'cluster-secret'
  const nodes = await Promise.all([1, 2, 3].map((id) => startNode(t, id, { secret })))
  // Every node learns every other in the same turn, as with `--cluster` at start-up.
  for (const node of nodes) {
    for (const other of nodes) if (other !== node) node.transport.addPeer(other.transport.localId, addressOf(other))
  }
  await waitFor('all links up', () => nodes.every((n) => n.transport.peerIds.every((id) => n.transport.link(id)!.connected)))
  // Node i accepts only from lower ids: node 1 accepts none, node 2 one, node 3 two.
  t.same(
    nodes.map((n) => n.transport.serverStats!.handshakesSucceeded),
    [0, 1, 2],
  )
  t.equal(
    nodes.reduce((sum, n) => sum + n.transport.serverStats!.openConnections, 0),
    3,
    'three pairs, three connections',
  )
  t.ok(
    nodes.every((n) => n.transport.peerIds.every((id) => n.transport.link(id)!.stats.connects === 1)),
    'no link connected twice',
  )
  for (const node of nodes) {
    for (const id of node.transport.peerIds) t.equal(node.transport.send(id, { from: node.transport.localId, to: id }), true)
  }
  await waitFor('all-to-all delivery', () => nodes.every((n) => n.received.length === 2))
  for (const node of nodes) {
    const me = node.transport.localId
    t.same(
      node.received.map((r) => r.from).sort(),
      [1, 2, 3].filter((id) => id !== me),
    )
    t.ok(node.received.every((r) => (r.message as { to: number }).to === me))
  }
})

t.test('a higher id dialing a lower one, or an unknown node, is refused in the handshake', async (t) => {
  const low = await startNode(t, 1)
  const high = await startNode(t, 2)
  low.transport.addPeer(2, addressOf(high))
  high.transport.addPeer(1, addressOf(low))
  await waitFor('linked', () => low.transport.link(2)!.connected && high.transport.link(1)!.connected)

  const wrongWay = await dialPeer(addressOf(low), { localId: 2, expectedRemoteId: 1 }).catch((e: NetError) => e)
  t.equal((wrongWay as NetError).code, 'PEER_REJECTED')
  t.equal((wrongWay as NetError).remoteCode, 'KNOCK', 'refused, and taken as a knock')
  const stranger = await dialPeer(addressOf(high), { localId: 7, expectedRemoteId: 2 }).catch((e: NetError) => e)
  t.equal((stranger as NetError).remoteCode, 'UNEXPECTED_PEER')
  t.equal(low.transport.link(2)!.connected, true, 'the existing link is undisturbed')
  t.equal(high.transport.link(1)!.stats.connects, 1)
  t.equal(low.received.length + high.received.length, 0)
  t.equal(high.transport.send(99, 'nobody'), false, 'sending to an unknown peer drops')
})

t.test('a node with the wrong secret never connects and delivers nothing', async (t) => {
  const events: string[] = []
  const good = await startNode(t, 2, { secret: 'right' })
  const bad = await startNode(t, 1, { secret: 'wrong', onLinkState: (e) => events.push(`${e.state}:${e.error?.code ?? ''}`) })
  good.transport.addPeer(1, addressOf(bad))
  bad.transport.addPeer(2, addressOf(good))
  await waitFor('two failed dials', () => bad.transport.link(2)!.stats.dialFailures >= 2)
  t.equal(bad.transport.link(2)!.connected, false)
  t.equal(good.transport.link(1)!.state, 'waiting')
  t.equal(good.transport.serverStats!.handshakesSucceeded, 0)
  t.ok(good.transport.serverStats!.handshakesFailed >= 2)
  t.equal(bad.transport.send(2, 'let me in'), false)
  t.equal(good.received.length, 0)
  t.ok(events.some((e) => e === 'backoff:AUTH_FAILED' || e === 'backoff:PEER_REJECTED'), events.join(' '))
})

t.test('removing a peer closes its link and refuses it afterwards', async (t) => {
  const a = await startNode(t, 1)
  const b = await startNode(t, 2)
  a.transport.addPeer(2, addressOf(b))
  b.transport.addPeer(1, addressOf(a))
  await waitFor('linked', () => a.transport.link(2)!.connected)
  const link = b.transport.link(1)!
  b.transport.removePeer(1)
  t.equal(link.state, 'closed')
  t.equal(b.transport.link(1), undefined)
  await waitFor('a sees the loss and redials into a refusal', () => (a.transport.link(2)!.stats.dialFailures ?? 0) >= 1)
  t.equal(a.transport.send(2, 'x'), false)
  t.throws(() => a.transport.addPeer(1, addressOf(a)), { code: 'INVALID_CONFIG' })
})

t.test('a peer whose address changes is dialed at the new address from the next attempt', async (t) => {
  const a = await startNode(t, 1, { backoff: { initialDelayMs: 5, maxDelayMs: 20 } })
  const b = await startNode(t, 2)
  b.transport.addPeer(1, addressOf(a))
  a.transport.addPeer(2, '127.0.0.1:1') // nothing listens on port 1
  await waitFor('a dial to the old address failed', () => a.transport.link(2)!.stats.dialFailures >= 1)
  a.transport.addPeer(2, addressOf(b))
  await waitFor('connected at the new address', () => a.transport.link(2)!.connected)
  t.equal(a.transport.send(2, 'found you'), true)
  await waitFor('delivered', () => b.received.length === 1)
  t.same(b.received, [{ from: 1, message: 'found you' }])
})

t.test('a restarted higher id knocks, and the lower id dials it at once instead of waiting out its backoff', async (t) => {
  // Backoff of 20 s: without the knock, node 1 would not dial again during this test.
  const backoff = { initialDelayMs: 20_000, maxDelayMs: 20_000, jitterRatio: 0 }
  const low = await startNode(t, 1, { backoff })
  const first = await startNode(t, 2)
  const highAddress = addressOf(first)
  low.transport.addPeer(2, highAddress)
  first.transport.addPeer(1, addressOf(low))
  await waitFor('linked', () => low.transport.link(2)!.connected)
  await first.transport.close()
  await waitFor('node 1 waits out its backoff', () => low.transport.link(2)!.state === 'backoff')

  const again = await startNode(t, 2, { listen: highAddress })
  again.transport.addPeer(1, addressOf(low))
  await waitFor('linked again', () => low.transport.link(2)!.connected && again.transport.link(1)!.connected)
  t.equal(low.transport.link(2)!.stats.connects, 2)
  t.ok(again.transport.send(1, 'back'))
  await waitFor('delivered', () => low.received.length === 1)
})

t.test('nodes removed from the cluster are refused with REMOVED, and their links say so, dialing or knocking', async (t) => {
  // Node 2 removed nodes 1 and 3 (it has no link to them).
  const member = await startNode(t, 2, { isRemoved: (id) => id === 1 || id === 3 })
  const told: Array<[number, number]> = []
  // Node 1 has the lower id: its link dials node 2. Node 3 has the higher id: its link waits for node 2 to dial, and knocks.
  const dialing = await startNode(t, 1, { onRefusal: (by, code) => code === 'REMOVED' && told.push([1, by]) })
  const knocking = await startNode(t, 3, { onRefusal: (by, code) => code === 'REMOVED' && told.push([3, by]) })
  dialing.transport.addPeer(2, addressOf(member))
  knocking.transport.addPeer(2, addressOf(member))
  await waitFor('both told they were removed', () => told.some(([who]) => who === 1) && told.some(([who]) => who === 3))
  t.ok(told.every(([, by]) => by === 2), 'by node 2')
  t.notOk(dialing.transport.link(2)!.connected)
  t.notOk(knocking.transport.link(2)!.connected)
  const refused = await dialPeer(addressOf(member), { localId: 3, expectedRemoteId: 2 }).then(
    () => undefined,
    (error: NetError) => error,
  )
  t.equal(refused?.remoteCode, 'REMOVED')
  t.match(refused?.message ?? '', /node 3 was removed from this cluster/)
})
