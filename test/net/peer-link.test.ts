// PeerLink: redial with observable exponential backoff after the remote
// restarts, in-order delivery after reconnection, drops while disconnected,
// and the accepting side's hand-over and replacement of connections.
import t from 'tap'
import { backoffDefaults, backoffDelayMs } from '../../src/net/backoff.js'
import { dialPeer } from '../../src/net/dial-peer.js'
import type { NetError } from '../../src/net/net-error.js'
import type { PeerConnection } from '../../src/net/peer-connection.js'
import { PeerLink, type PeerLinkEvent } from '../../src/net/peer-link.js'
import { PeerServer } from '../../src/net/peer-server.js'
import { waitFor, type TestScope } from './helpers.js'

/** A peer server (node 2) that records what each accepted connection delivers. */
async function recordingServer(t: TestScope, port = 0) {
  const received: unknown[] = []
  const server = await PeerServer.listen({
    localId: 2,
    listen: `127.0.0.1:${port}`,
    onConnection: (connection) => connection.start({ onMessages: (_id, messages) => received.push(...messages) }),
  })
  t.teardown(() => server.close())
  return { server, received, port: server.address.port }
}

/** A schedule hook the test fires by hand: backoff without waiting on the clock. */
function manualSchedule() {
  const pending: Array<{ callback: () => void; delayMs: number; cancelled: boolean }> = []
  return {
    pending,
    schedule: (callback: () => void, delayMs: number) => {
      const entry = { callback, delayMs, cancelled: false }
      pending.push(entry)
      return () => {
        entry.cancelled = true
      }
    },
    fireNext(): void {
      const entry = pending.shift()
      if (entry === undefined) throw new Error('no redial scheduled')
      if (!entry.cancelled) entry.callback()
    },
  }
}

t.test('a dialing link reconnects with growing backoff after the remote restarts, then delivers in order', async (t) => {
  const first = await recordingServer(t)
  const port = first.port
  const events: PeerLinkEvent[] = []
  const clock = manualSchedule()
  const random = () => 0.25
  const link = new PeerLink({
    localId: 1,
    remoteId: 2,
    address: `127.0.0.1:${port}`,
    connectTimeoutMs: 1_000,
    random,
    schedule: clock.schedule,
    onMessages: () => {},
    onStateChange: (e) => events.push(e),
  })
  t.teardown(() => link.close())
  t.equal(link.dials, true, 'the lower id dials')
  link.start()
  await waitFor('connected', () => link.connected)
  for (let i = 0; i < 50; i++) t.equal(link.send({ seq: i }), true)
  await waitFor('first 50', () => first.received.length === 50)

  await first.server.close()
  await waitFor('link notices the loss', () => link.state === 'backoff')
  t.equal(events.at(-1)!.error?.code, 'CONNECTION_LOST')
  t.equal(link.send({ seq: -1 }), false, 'sends while disconnected are dropped, not queued')
  t.equal(link.stats.droppedDisconnected, 1)

  // Let four redials fail against the closed port; each waits longer than the last.
  for (let failures = 0; failures < 4; failures++) {
    clock.fireNext()
    await waitFor(`redial ${failures + 1} fails`, () => link.state === 'backoff' && clock.pending.length === 1)
  }
  const backoffs = events.filter((e) => e.state === 'backoff')
  t.same(
    backoffs.map((e) => e.attempt),
    [0, 1, 2, 3, 4],
    'attempts count up from 0 after the loss',
  )
  t.same(
    backoffs.map((e) => e.delayMs),
    backoffs.map((e) => backoffDelayMs(e.attempt, backoffDefaults, random)),
    'each delay is the backoff formula with the injected randomness',
  )
  t.same(
    backoffs.map((e) => e.delayMs),
    [44, 88, 175, 350, 700],
    'exponential: 50 ms doubling, cut by 0.5 jitter x random() 0.25 = 12.5%',
  )
  t.ok(backoffs.slice(1).every((e) => e.error?.code === 'CONNECT_FAILED'))
  t.equal(link.stats.dialFailures, 4)

  const second = await recordingServer(t, port)
  clock.fireNext()
  await waitFor('reconnected', () => link.connected)
  t.equal(events.at(-1)!.attempt, 0, 'a connection resets the attempt count')
  for (let i = 50; i < 100; i++) t.equal(link.send({ seq: i }), true)
  await waitFor('next 50', () => second.received.length === 50)
  t.same(second.received, Array.from({ length: 50 }, (_, i) => ({ seq: 50 + i })), 'only messages sent after reconnection, in order')
  t.same(first.received, Array.from({ length: 50 }, (_, i) => ({ seq: i })))
})

t.test('backoff is capped and jitter stays within its ratio', async (t) => {
  const options = { initialDelayMs: 10, maxDelayMs: 1000, multiplier: 3, jitterRatio: 0.5 }
  for (let attempt = 0; attempt < 100; attempt++) {
    const high = backoffDelayMs(attempt, options, () => 0)
    const low = backoffDelayMs(attempt, options, () => 0.999999)
    t.ok(high <= 1000 && low >= Math.floor(high * 0.5) && low <= high, `attempt ${attempt}: ${low}..${high}`)
  }
  t.equal(backoffDelayMs(1_000_000, options, () => 0), 1000)
})

t.test('closing a link during backoff cancels the redial', async (t) => {
  const clock = manualSchedule()
  const events: PeerLinkEvent[] = []
  // Port 1 on loopback: nothing listens there, the dial fails at once.
  const link = new PeerLink({ localId: 1, remoteId: 2, address: '127.0.0.1:1', schedule: clock.schedule, onMessages: () => {}, onStateChange: (e) => events.push(e) })
  link.start()
  await waitFor('backoff', () => link.state === 'backoff')
  link.close()
  t.equal(clock.pending[0]!.cancelled, true)
  t.equal(link.state, 'closed')
  const count = events.length
  clock.fireNext()
  t.equal(events.length, count, 'no event after close')
})

t.test('an accepting link waits, adopts inbound connections, and a newer one replaces the older', async (t) => {
  const events: PeerLinkEvent[] = []
  const received: unknown[] = []
  const link = new PeerLink({ localId: 2, remoteId: 1, onMessages: (_id, m) => received.push(...m), onStateChange: (e) => events.push(e) })
  t.teardown(() => link.close())
  t.equal(link.dials, false, 'the higher id accepts')
  link.start()
  t.equal(link.state, 'waiting')
  t.equal(link.send('nobody'), false)

  const server = await PeerServer.listen({ localId: 2, listen: '127.0.0.1:0', onConnection: (c) => link.attach(c) })
  t.teardown(() => server.close())
  const address = `127.0.0.1:${server.address.port}`
  const closes: NetError[] = []
  const dial = async (): Promise<PeerConnection> => {
    const c = await dialPeer(address, { localId: 1, expectedRemoteId: 2 })
    t.teardown(() => c.close())
    c.start({ onMessages: () => {}, onClose: (e) => closes.push(e) })
    return c
  }
  const older = await dial()
  await waitFor('connected', () => link.connected)
  older.send('from older')
  await waitFor('older delivers', () => received.length === 1)

  const newer = await dial()
  await waitFor('older closed by replacement', () => closes.length === 1)
  t.equal(older.open, false)
  t.equal(link.connected, true)
  newer.send('from newer')
  t.equal(link.send('to newer'), true)
  await waitFor('newer delivers', () => received.length === 2)
  t.same(received, ['from older', 'from newer'])

  newer.close()
  await waitFor('waiting again', () => link.state === 'waiting')
  t.equal(events.at(-1)!.error?.code, 'CONNECTION_LOST')
})

t.test('a connection from another node, or to a dialing link, is refused by attach', async (t) => {
  const accepting = new PeerLink({ localId: 2, remoteId: 1, onMessages: () => {} })
  const dialing = new PeerLink({ localId: 2, remoteId: 9, address: '127.0.0.1:1', schedule: () => () => {}, onMessages: () => {} })
  t.teardown(() => accepting.close())
  t.teardown(() => dialing.close())
  accepting.start()
  const connections: PeerConnection[] = []
  const server = await PeerServer.listen({ localId: 2, listen: '127.0.0.1:0', onConnection: (c) => connections.push(c) })
  t.teardown(() => server.close())
  const address = `127.0.0.1:${server.address.port}`
  for (const localId of [5, 9]) {
    const c = await dialPeer(address, { localId, expectedRemoteId: 2 })
    t.teardown(() => c.close())
  }
  await waitFor('two accepted', () => connections.length === 2)
  const from5 = connections.find((c) => c.remoteId === 5)!
  const from9 = connections.find((c) => c.remoteId === 9)!
  accepting.attach(from5) // node 5 offered to the link of node 1
  dialing.attach(from9) // node 9 is dialed by node 2, never accepted
  t.equal(from5.closeReason?.code, 'UNEXPECTED_PEER')
  t.equal(from9.closeReason?.code, 'UNEXPECTED_PEER')
  t.equal(accepting.state, 'waiting')
  t.throws(() => new PeerLink({ localId: 1, remoteId: 2, onMessages: () => {} }), { code: 'INVALID_CONFIG' }, 'a dialing link needs an address')
  t.throws(() => new PeerLink({ localId: 1, remoteId: 1, onMessages: () => {} }), { code: 'INVALID_CONFIG' })
})

t.test('an accepting link knocks on its peer while it waits, every 0.5–1 s, and stops once closed', async (t) => {
  let knocks = 0
  const server = await PeerServer.listen({
    localId: 1,
    listen: '127.0.0.1:0',
    checkRemote: () => {
      knocks++
      return 'node 1 dials node 2'
    },
    onConnection: (c) => c.close(),
  })
  t.teardown(() => server.close())
  const clock = manualSchedule()
  const link = new PeerLink({ localId: 2, remoteId: 1, address: `127.0.0.1:${server.address.port}`, schedule: clock.schedule, onMessages: () => {} })
  t.teardown(() => link.close())
  link.start()
  t.equal(link.state, 'waiting')
  await waitFor('first knock', () => knocks === 1)
  t.equal(clock.pending.length, 1)
  t.ok(clock.pending[0]!.delayMs >= 500 && clock.pending[0]!.delayMs <= 1_000, `next knock in ${clock.pending[0]!.delayMs} ms`)
  clock.fireNext()
  await waitFor('second knock', () => knocks === 2)
  link.close()
  t.equal(clock.pending.at(-1)!.cancelled, true, 'no knock after close')
})

t.test('redialNow dials at once during backoff, at most once per 100 ms', async (t) => {
  const clock = manualSchedule()
  // Port 1 on loopback: nothing listens there, the dial fails at once.
  const link = new PeerLink({ localId: 1, remoteId: 2, address: '127.0.0.1:1', schedule: clock.schedule, onMessages: () => {} })
  t.teardown(() => link.close())
  link.start()
  await waitFor('backoff', () => link.state === 'backoff')
  link.redialNow()
  t.equal(clock.pending[0]!.cancelled, false, 'too soon after the last dial: the knock is ignored')
  await new Promise((resolve) => setTimeout(resolve, 120))
  link.redialNow()
  t.equal(clock.pending[0]!.cancelled, true, 'the scheduled redial gave way to a dial now')
  await waitFor('failed again', () => link.stats.dialFailures === 2)
  const accepting = new PeerLink({ localId: 2, remoteId: 1, onMessages: () => {} })
  t.teardown(() => accepting.close())
  accepting.start()
  accepting.redialNow()
  t.equal(accepting.state, 'waiting', 'an accepting link never dials')
})
