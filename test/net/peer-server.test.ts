// The peer server over real sockets on 127.0.0.1: authenticated hand-over,
// refusal of every bad handshake with nothing delivered, and garbage or
// oversize frames closing only the connection that sent them.
import t from 'tap'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { dialPeer } from '../../src/net/dial-peer.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'
import { NetError } from '../../src/net/net-error.js'
import type { PeerConnection } from '../../src/net/peer-connection.js'
import { PeerServer, type PeerServerOptions } from '../../src/net/peer-server.js'
import { rawConnect, rawHandshake, waitFor, type TestScope } from './helpers.js'

interface Harness {
  server: PeerServer
  port: number
  address: string
  accepted: PeerConnection[]
  delivered: Array<{ remoteId: number; messages: unknown[] }>
  failures: NetError[]
  closeReasons: NetError[]
}

async function startServer(t: TestScope, options: Partial<PeerServerOptions> = {}): Promise<Harness> {
  const accepted: PeerConnection[] = []
  const delivered: Harness['delivered'] = []
  const failures: NetError[] = []
  const closeReasons: NetError[] = []
  const server = await PeerServer.listen({
    localId: 2,
    listen: '127.0.0.1:0',
    handshakeTimeoutMs: 2_000,
    closeLingerMs: 200,
    ...options,
    onConnection: (connection) => {
      accepted.push(connection)
      connection.start({
        onMessages: (remoteId, messages) => delivered.push({ remoteId, messages }),
        onClose: (error) => closeReasons.push(error),
      })
    },
    onHandshakeFailed: (error) => failures.push(error),
  })
  t.teardown(() => server.close())
  const port = server.address.port
  return { server, port, address: `127.0.0.1:${port}`, accepted, delivered, failures, closeReasons }
}

t.test('with a secret: the handshake succeeds and messages flow both ways, in order', async (t) => {
  const h = await startServer(t, { secret: 'hunter2', clusterId: 'c' })
  const fromServer: unknown[] = []
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2, secret: 'hunter2', clusterId: 'c' })
  t.teardown(() => client.close())
  client.start({ onMessages: (_id, messages) => fromServer.push(...messages) })
  t.equal(client.remoteId, 2)
  t.equal(client.authenticated, true)
  for (let i = 0; i < 100; i++) t.equal(client.send({ seq: i }), true)
  await waitFor('100 messages at the server', () => h.delivered.flatMap((d) => d.messages).length === 100)
  t.same(h.delivered.flatMap((d) => d.messages), Array.from({ length: 100 }, (_, i) => ({ seq: i })))
  t.ok(h.delivered.every((d) => d.remoteId === 1))
  t.equal(h.accepted[0]!.authenticated, true)
  h.accepted[0]!.send('pong')
  await waitFor('the answer', () => fromServer.length === 1)
  t.same(fromServer, ['pong'])
})

t.test('without a secret: ids and version are still exchanged, unauthenticated', async (t) => {
  const h = await startServer(t)
  const client = await dialPeer(h.address, { localId: 7, expectedRemoteId: 2 })
  t.teardown(() => client.close())
  client.start({ onMessages: () => {} })
  await waitFor('hand-over', () => h.accepted.length === 1)
  t.equal(h.accepted[0]!.remoteId, 7)
  t.equal(h.accepted[0]!.authenticated, false)
  t.equal(client.authenticated, false)
})

t.test('refused handshakes: nothing is handed over and the dialer gets a typed error', async (t) => {
  const h = await startServer(t, { secret: 'right', checkRemote: (id) => (id === 66 ? 'not a member' : undefined) })
  const attempts: Array<[string, Parameters<typeof dialPeer>[1], string[]]> = [
    ['wrong secret', { localId: 1, expectedRemoteId: 2, secret: 'wrong' }, ['AUTH_FAILED', 'PEER_REJECTED:AUTH_FAILED']],
    ['no secret', { localId: 1, expectedRemoteId: 2 }, ['AUTH_MISMATCH', 'PEER_REJECTED:AUTH_MISMATCH']],
    ['wrong expected id', { localId: 1, expectedRemoteId: 3, secret: 'right' }, ['UNEXPECTED_PEER']],
    ['wrong version', { localId: 1, expectedRemoteId: 2, secret: 'right', protocolVersion: 99 }, ['VERSION_MISMATCH', 'PEER_REJECTED:VERSION_MISMATCH']],
    ['not a member', { localId: 66, expectedRemoteId: 2, secret: 'right' }, ['PEER_REJECTED:UNEXPECTED_PEER']],
  ]
  for (const [name, options, codes] of attempts) {
    const error = await dialPeer(h.address, options).then(
      (c) => {
        c.close()
        return undefined
      },
      (e: NetError) => e,
    )
    t.ok(error instanceof NetError, `${name}: dial rejected`)
    const code = error?.code === 'PEER_REJECTED' ? `PEER_REJECTED:${error.remoteCode}` : error?.code
    t.ok(codes.includes(String(code)), `${name}: ${String(code)} is one of ${codes.join(', ')}`)
  }
  await waitFor('every failure recorded', () => h.failures.length === attempts.length)
  t.equal(h.accepted.length, 0, 'no connection was handed over')
  t.equal(h.delivered.length, 0)
  t.equal(h.server.stats.handshakesFailed, attempts.length)
})

t.test('a client that authenticates wrongly and pipelines messages gets none delivered', async (t) => {
  const h = await startServer(t, { secret: 'right' })
  const raw = await rawConnect(h.port)
  t.teardown(() => raw.socket.destroy())
  const encoder = new FrameEncoder({ maxFrameBytes: 1 << 16 })
  // Application frames right behind the (bad) proof, in the same write, as an eager attacker would send them.
  const pipelined = encoder.encodeAll([{ type: 'raft', term: 99 }, { type: 'raft', term: 100 }])
  const failed = rawHandshake(raw.socket, { role: 'dialer', localId: 1, secret: 'wrong' }, pipelined).catch((e: NetError) => e)
  const error = await failed
  t.ok(error instanceof NetError)
  await raw.closed
  await waitFor('server failure', () => h.failures.length === 1)
  t.equal(h.failures[0]!.code, 'AUTH_FAILED')
  t.equal(h.accepted.length, 0)
  t.equal(h.delivered.length, 0)
})

t.test('a silent client is closed at the handshake timeout', async (t) => {
  const h = await startServer(t, { handshakeTimeoutMs: 100 })
  const raw = await rawConnect(h.port)
  t.teardown(() => raw.socket.destroy())
  await raw.closed
  t.equal(h.failures[0]?.code, 'HANDSHAKE_TIMEOUT')
  t.equal(h.accepted.length, 0)
})

t.test('garbage before the handshake closes that connection; the server keeps serving others', async (t) => {
  const h = await startServer(t)
  const garbage: Buffer[] = [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), // a length prefix of ~1.2 GB: over the 1 KiB handshake limit
    Buffer.from([0, 0, 0, 1, 0x2a]), // a well-formed frame (the number 42) that is not a hello
    Buffer.from([0, 0, 0, 2, 0x92, 0x01]), // a truncated msgpack value
  ]
  for (const bytes of garbage) {
    const raw = await rawConnect(h.port)
    t.teardown(() => raw.socket.destroy())
    raw.socket.write(bytes)
    await raw.closed
  }
  t.same(
    h.failures.map((f) => f.code),
    ['FRAME_TOO_LARGE', 'HANDSHAKE_PROTOCOL', 'FRAME_MALFORMED'],
  )
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2 })
  t.teardown(() => client.close())
  client.start({ onMessages: () => {} })
  client.send('still here')
  await waitFor('delivery after garbage', () => h.delivered.length === 1)
  t.same(h.delivered[0]!.messages, ['still here'])
})

t.test('after the handshake, an oversize prefix or a malformed frame closes only that connection', async (t) => {
  const h = await startServer(t, { maxFrameBytes: 4096, maxQueuedBytes: 1 << 16 })
  const good = await dialPeer(h.address, { localId: 3, expectedRemoteId: 2 })
  t.teardown(() => good.close())
  good.start({ onMessages: () => {} })

  const cases: Array<[number, Buffer, string]> = [
    [4, Buffer.from([0x7f, 0xff, 0xff, 0xff]), 'FRAME_TOO_LARGE'], // only the 4-byte prefix of a 2 GiB frame is ever sent
    [5, Buffer.from([0, 0, 0, 2, 0x01, 0x02]), 'FRAME_MALFORMED'],
  ]
  for (const [localId, bytes, code] of cases) {
    const raw = await rawConnect(h.port)
    t.teardown(() => raw.socket.destroy())
    const { encoder } = await rawHandshake(raw.socket, { role: 'dialer', localId, expectedRemoteId: 2 })
    raw.socket.write(Buffer.concat([encoder.encode({ before: 'garbage' }), bytes]))
    await raw.closed
    await waitFor(`${code} recorded`, () => h.closeReasons.some((r) => r.code === code))
  }
  t.same(
    h.delivered.filter((d) => d.remoteId !== 3).map((d) => d.messages),
    [[{ before: 'garbage' }], [{ before: 'garbage' }]],
    'frames before the garbage were delivered',
  )
  good.send('after')
  await waitFor('the good connection still delivers', () => h.delivered.some((d) => d.remoteId === 3))
  t.equal(good.open, true)
})

t.test('unauthenticated connections are limited in number', async (t) => {
  const h = await startServer(t, { maxPendingHandshakes: 2, handshakeTimeoutMs: 5_000 })
  const silent = [await rawConnect(h.port), await rawConnect(h.port)]
  await waitFor('two pending', () => h.server.stats.pendingHandshakes === 2)
  const third = await rawConnect(h.port)
  await third.closed
  t.equal(h.server.stats.refusedOverLimit, 1)
  for (const s of silent) s.socket.destroy()
  await Promise.all(silent.map((s) => s.closed))
  await waitFor('slots freed', () => h.server.stats.pendingHandshakes === 0)
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2 })
  t.teardown(() => client.close())
  t.equal(client.remoteId, 2)
})

t.test('closing the server closes pending handshakes and accepted connections', async (t) => {
  const h = await startServer(t)
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2 })
  const closed = new Promise<NetError>((resolve) => client.start({ onMessages: () => {}, onClose: resolve }))
  const pending = await rawConnect(h.port)
  await waitFor('pending', () => h.server.stats.pendingHandshakes === 1)
  await h.server.close()
  t.equal((await closed).code, 'CONNECTION_LOST')
  await pending.closed
  await t.rejects(dialPeer(h.address, { localId: 1, expectedRemoteId: 2 }), { code: 'CONNECT_FAILED' })
})

t.test('an unauthenticated server and connection say so in the log; a busy port is LISTEN_FAILED', async (t) => {
  const lines: Array<{ level: number; msg: string; authenticated?: boolean }> = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as (typeof lines)[number])
      done()
    },
  })
  const logger = pino({ level: 'info' }, sink)
  const h = await startServer(t, { logger })
  const client = await dialPeer(h.address, { localId: 1, expectedRemoteId: 2 })
  t.teardown(() => client.close())
  await waitFor('accepted', () => h.accepted.length === 1)
  await waitFor('log lines', () => lines.length >= 2)
  t.ok(lines.some((l) => l.level === 40 && /NOT authenticated/.test(l.msg)), 'a warning at start-up')
  t.ok(lines.some((l) => l.authenticated === false && /WITHOUT authentication/.test(l.msg)), 'each unauthenticated connection is logged')
  await t.rejects(PeerServer.listen({ localId: 3, listen: h.address, onConnection: () => {} }), { code: 'LISTEN_FAILED' })
})
