// A connection after its handshake: ordered batched delivery, the outbound
// bound (drop, never grow), heartbeats and the idle timeout, and frames that
// follow the handshake in the same chunk.
import t from 'tap'
import { createServer, type Server, type Socket } from 'node:net'
import { dialPeer } from '../../src/net/dial-peer.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'
import type { NetError } from '../../src/net/net-error.js'
import type { PeerConnection } from '../../src/net/peer-connection.js'
import { HELLO_TYPE, PEER_PROTOCOL_VERSION, PROOF_TYPE } from '../../src/net/peer-handshake.js'
import { PeerServer } from '../../src/net/peer-server.js'
import { nextTurn, rawConnect, rawHandshake, waitFor, type TestScope } from './helpers.js'

/** A peer server whose accepted connections are collected and started. */
async function listen(t: TestScope, options: { heartbeatIntervalMs?: number; idleTimeoutMs?: number } = {}) {
  const accepted: PeerConnection[] = []
  const batches: unknown[][] = []
  const server = await PeerServer.listen({
    localId: 2,
    listen: '127.0.0.1:0',
    ...options,
    onConnection: (connection) => {
      accepted.push(connection)
      connection.start({ onMessages: (_id, messages) => batches.push(messages) })
    },
  })
  t.teardown(() => server.close())
  return { server, address: `127.0.0.1:${server.address.port}`, accepted, batches }
}

/** A plain TCP server that handshakes by hand and then hands the raw socket to `then`. */
async function rawPeerServer(t: TestScope, then: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    rawHandshake(socket, { role: 'acceptor', localId: 2 }).then(
      () => then(socket),
      () => socket.destroy(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  )
  const address = server.address()
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 }
}

t.test('many sends in one turn arrive in order, batched into few deliveries', async (t) => {
  const h = await listen(t)
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2 })
  t.teardown(() => client.close())
  client.start({ onMessages: () => {} })
  const count = 2000
  for (let i = 0; i < count; i++) client.send({ seq: i, payload: 'm' })
  await waitFor('all messages', () => h.batches.flat().length === count)
  t.same(h.batches.flat(), Array.from({ length: count }, (_, i) => ({ seq: i, payload: 'm' })))
  // One write of ~30 KB for the whole turn: the receiver sees it in a few reads, not 2000.
  t.ok(h.batches.length <= 20, `${h.batches.length} deliveries for ${count} messages`)
  t.equal(client.stats.messagesQueued, count)
  t.equal(h.accepted[0]!.stats.messagesReceived, count)
})

t.test('a peer that stops reading makes sends drop at the bound instead of growing memory', async (t) => {
  const { port } = await rawPeerServer(t, (socket) => socket.pause())
  const maxQueuedBytes = 256 * 1024
  const client = await dialPeer(`127.0.0.1:${port}`, { localId: 1, expectedRemoteId: 2, maxFrameBytes: 64 * 1024, maxQueuedBytes })
  t.teardown(() => client.close())
  client.start({ onMessages: () => {} })
  const message = { entries: Buffer.alloc(8 * 1024, 1) }
  let accepted = 0
  let offered = 0
  let droppedInLastTurn = false
  // Each turn offers 512 KiB; the kernel buffers take some, then nothing more drains.
  for (let turn = 0; turn < 100; turn++) {
    droppedInLastTurn = false
    for (let i = 0; i < 64; i++) {
      offered++
      if (client.send(message)) accepted++
      else droppedInLastTurn = true
      if (client.pendingBytes > maxQueuedBytes) t.fail(`pendingBytes ${client.pendingBytes} over the bound`)
    }
    await nextTurn()
  }
  t.ok(droppedInLastTurn, 'sends still drop once the peer is stuck')
  t.equal(client.stats.messagesDropped, offered - accepted)
  t.ok(accepted < offered / 2, `accepted ${accepted} of ${offered} messages`)
  t.ok(client.pendingBytes <= maxQueuedBytes)
  t.equal(client.open, true, 'a slow peer is not a failure by itself')
})

t.test('messages that can never be sent throw typed errors', async (t) => {
  const h = await listen(t)
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2, maxFrameBytes: 1024, maxQueuedBytes: 4096 })
  t.teardown(() => client.close())
  client.start({ onMessages: () => {} })
  t.throws(() => client.send({ blob: Buffer.alloc(2000) }), { code: 'FRAME_TOO_LARGE' })
  t.throws(() => client.send(Symbol('x')), { code: 'MESSAGE_UNENCODABLE' })
  t.equal(client.send('fine'), true)
  await waitFor('delivery', () => h.batches.length === 1)
})

t.test('a peer that goes silent is closed with IDLE_TIMEOUT', async (t) => {
  const { port } = await rawPeerServer(t, () => {}) // handshakes, then never writes again
  const client = await dialPeer(`127.0.0.1:${port}`, { localId: 1, expectedRemoteId: 2, heartbeatIntervalMs: 20, idleTimeoutMs: 100 })
  const reason = await new Promise<NetError>((resolve) => client.start({ onMessages: () => {}, onClose: resolve }))
  t.equal(reason.code, 'IDLE_TIMEOUT')
  t.equal(client.open, false)
  t.equal(client.send('late'), false, 'a closed connection drops sends')
})

t.test('heartbeats keep an idle but healthy connection open past its idle timeout', async (t) => {
  // Twenty heartbeats fit in one idle timeout: only a stall of the whole
  // process for 500 ms could close this connection.
  const options = { heartbeatIntervalMs: 25, idleTimeoutMs: 500 }
  const h = await listen(t, options)
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2, ...options })
  t.teardown(() => client.close())
  let closed: NetError | undefined
  client.start({ onMessages: () => {}, onClose: (e) => (closed = e) })
  const since = Date.now()
  // At least 50 heartbeats each way: about two and a half idle timeouts without application traffic.
  await waitFor('heartbeats both ways', () => client.stats.heartbeatsReceived >= 50 && (h.accepted[0]?.stats.heartbeatsReceived ?? 0) >= 50)
  t.ok(Date.now() - since > options.idleTimeoutMs, 'the wait outlasted the idle timeout')
  t.equal(closed, undefined)
  t.equal(client.open, true)
  t.equal(h.accepted[0]!.open, true)
  t.equal(h.batches.length, 0, 'heartbeats are not delivered as messages')
})

t.test('frames in the same chunk as the handshake are delivered after start, in order', async (t) => {
  const h = await listen(t)
  const raw = await rawConnect(h.server.address.port)
  t.teardown(() => raw.socket.destroy())
  const encoder = new FrameEncoder({ maxFrameBytes: 1 << 16 })
  // Unauthenticated, the dialer's proof does not depend on the server's nonce: hello, proof and three messages in one write.
  raw.socket.write(
    encoder.encodeAll([
      { type: HELLO_TYPE, version: PEER_PROTOCOL_VERSION, clusterId: null, nodeId: 1, nonce: new Uint8Array(32), authenticated: false },
      { type: PROOF_TYPE, mac: null },
      'first',
      { second: Buffer.alloc(2000, 2) },
      'third',
    ]),
  )
  await waitFor('three messages', () => h.batches.flat().length === 3)
  const [first, second, third] = h.batches.flat() as [string, { second: Uint8Array }, string]
  t.equal(first, 'first')
  t.equal(second.second.length, 2000, 'a frame over the 1 KiB handshake limit is accepted once the handshake is done')
  t.equal(third, 'third')
})

t.test('options are validated', async (t) => {
  const h = await listen(t)
  await t.rejects(dialPeer(h.address, { localId: 1, expectedRemoteId: 2, maxFrameBytes: 1000, maxQueuedBytes: 1000 }), { code: 'INVALID_CONFIG' })
  await t.rejects(dialPeer(h.address, { localId: 1, expectedRemoteId: 2, heartbeatIntervalMs: 100, idleTimeoutMs: 100 }), { code: 'INVALID_CONFIG' })
  await t.rejects(dialPeer('nowhere', { localId: 1, expectedRemoteId: 2 }), { code: 'INVALID_ADDRESS' })
})
