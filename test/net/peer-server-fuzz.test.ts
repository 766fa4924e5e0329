// Random bytes at the peer port, before and after a valid handshake: the
// server closes the offending connection (or times it out), never delivers
// anything from an unauthenticated peer, never throws, and keeps serving.
import t from 'tap'
import fc from 'fast-check'
import { dialPeer } from '../../src/net/dial-peer.js'
import { PeerServer } from '../../src/net/peer-server.js'
import { rawConnect, rawHandshake, waitFor } from './helpers.js'

t.test('random bytes never crash the server nor reach a caller unauthenticated (property)', async (t) => {
  const delivered: Array<{ remoteId: number; count: number }> = []
  const server = await PeerServer.listen({
    localId: 2,
    listen: '127.0.0.1:0',
    secret: 'fuzz',
    handshakeTimeoutMs: 100,
    heartbeatIntervalMs: 50,
    idleTimeoutMs: 150,
    maxFrameBytes: 4096,
    maxQueuedBytes: 1 << 16,
    onConnection: (c) => c.start({ onMessages: (remoteId, m) => delivered.push({ remoteId, count: m.length }) }),
  })
  t.teardown(() => server.close())
  const port = server.address.port
  let authenticatedRuns = 0

  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.boolean(), async (garbage, afterHandshake) => {
      const raw = await rawConnect(port)
      try {
        if (afterHandshake) {
          await rawHandshake(raw.socket, { role: 'dialer', localId: 1, expectedRemoteId: 2, secret: 'fuzz' })
          authenticatedRuns++
        }
        raw.socket.write(garbage)
        // Closed for garbage, or at the handshake or idle timeout for a frame left incomplete.
        await raw.closed
        return true
      } finally {
        raw.socket.destroy()
      }
    }),
    { numRuns: 30 },
  )
  await waitFor('no pending handshakes', () => server.stats.pendingHandshakes === 0 && server.stats.openConnections === 0)
  const stats = server.stats
  t.equal(stats.handshakesSucceeded + stats.handshakesFailed, stats.accepted, 'every socket ended its handshake one way or the other')
  t.equal(stats.handshakesSucceeded, authenticatedRuns, 'only the authenticated runs got through')
  t.ok(delivered.every((d) => d.remoteId === 1), 'anything delivered came from the authenticated node')

  const client = await dialPeer(`127.0.0.1:${port}`, { localId: 3, expectedRemoteId: 2, secret: 'fuzz', maxFrameBytes: 4096, maxQueuedBytes: 1 << 16 })
  t.teardown(() => client.close())
  client.start({ onMessages: () => {} })
  client.send('after the fuzz')
  await waitFor('the server still serves', () => delivered.some((d) => d.remoteId === 3))
})
