// The handshake state machine, driven by hand: mutual proof of the cluster
// secret, refusal of every mismatch, and no use for a replayed or reflected proof.
import t from 'tap'
import fc from 'fast-check'
import {
  HELLO_TYPE,
  PEER_PROTOCOL_VERSION,
  PeerHandshake,
  proofMac,
  type HandshakeMessage,
  type HandshakeStep,
  type HelloMessage,
  type PeerHandshakeOptions,
} from '../../src/net/peer-handshake.js'

interface Outcome {
  dialer: HandshakeStep
  acceptor: HandshakeStep
  /** Every message the dialer sent, in order (a recorded transcript). */
  dialerSent: HandshakeMessage[]
}

/** Runs a whole exchange between two state machines, both hellos first, as on the wire. */
function exchange(dialerOptions: Omit<PeerHandshakeOptions, 'role'>, acceptorOptions: Omit<PeerHandshakeOptions, 'role'>): Outcome {
  const dialer = new PeerHandshake({ ...dialerOptions, role: 'dialer' })
  const acceptor = new PeerHandshake({ ...acceptorOptions, role: 'acceptor' })
  const dialerSent: HandshakeMessage[] = [dialer.start()]
  const toDialer: HandshakeMessage[] = [acceptor.start()]
  const toAcceptor: HandshakeMessage[] = [dialerSent[0]!]
  let dialerStep: HandshakeStep = { status: 'continue', send: [] }
  let acceptorStep: HandshakeStep = { status: 'continue', send: [] }
  for (let round = 0; round < 4 && (toDialer.length > 0 || toAcceptor.length > 0); round++) {
    const forAcceptor = toAcceptor.splice(0)
    const forDialer = toDialer.splice(0)
    for (const m of forAcceptor) {
      if (acceptorStep.status !== 'continue') break
      acceptorStep = acceptor.receive(m)
      toDialer.push(...acceptorStep.send)
    }
    for (const m of forDialer) {
      if (dialerStep.status !== 'continue') break
      dialerStep = dialer.receive(m)
      toAcceptor.push(...dialerStep.send)
      dialerSent.push(...dialerStep.send)
    }
  }
  return { dialer: dialerStep, acceptor: acceptorStep, dialerSent }
}

t.test('without a secret, ids and versions are exchanged and both sides finish unauthenticated', async (t) => {
  const { dialer, acceptor } = exchange({ localId: 1, expectedRemoteId: 2 }, { localId: 2 })
  t.equal(dialer.status, 'done')
  t.equal(acceptor.status, 'done')
  if (dialer.status === 'done' && acceptor.status === 'done') {
    t.same(dialer.peer, { remoteId: 2, remoteClusterId: null, authenticated: false })
    t.same(acceptor.peer, { remoteId: 1, remoteClusterId: null, authenticated: false })
  }
})

t.test('with the same secret, both sides prove it and finish authenticated', async (t) => {
  const { dialer, acceptor, dialerSent } = exchange(
    { localId: 1, expectedRemoteId: 2, secret: 'correct horse', clusterId: 'c1' },
    { localId: 2, secret: Buffer.from('correct horse'), clusterId: 'c1' },
  )
  t.equal(dialer.status, 'done')
  t.equal(acceptor.status, 'done')
  if (acceptor.status === 'done') t.same(acceptor.peer, { remoteId: 1, remoteClusterId: 'c1', authenticated: true })
  const proof = dialerSent[1]
  t.ok(proof?.type === 'troupe-peer-proof' && proof.mac instanceof Uint8Array && proof.mac.length === 32, 'a 32-byte HMAC-SHA256 proof')
})

t.test('a wrong secret is refused by both sides', async (t) => {
  const { dialer, acceptor } = exchange({ localId: 1, secret: 'secret-a' }, { localId: 2, secret: 'secret-b' })
  t.equal(acceptor.status, 'failed')
  t.equal(dialer.status, 'failed')
  if (acceptor.status === 'failed') t.equal(acceptor.error.code, 'AUTH_FAILED')
  if (dialer.status === 'failed') t.equal(dialer.error.code, 'AUTH_FAILED')
})

t.test('every mismatch is refused with its code, and the other side learns it from the reject', async (t) => {
  const cases: Array<[string, Omit<PeerHandshakeOptions, 'role'>, Omit<PeerHandshakeOptions, 'role'>, string]> = [
    ['version', { localId: 1, version: 2 }, { localId: 2 }, 'VERSION_MISMATCH'],
    ['cluster id', { localId: 1, clusterId: 'a' }, { localId: 2, clusterId: 'b' }, 'CLUSTER_MISMATCH'],
    ['secret on one side only', { localId: 1, secret: 's' }, { localId: 2 }, 'AUTH_MISMATCH'],
    ['expected node id', { localId: 1, expectedRemoteId: 3 }, { localId: 2 }, 'UNEXPECTED_PEER'],
    ['own id', { localId: 2 }, { localId: 2 }, 'UNEXPECTED_PEER'],
    ['refused by checkRemote', { localId: 1 }, { localId: 2, checkRemote: (id) => (id === 1 ? 'not a member' : undefined) }, 'UNEXPECTED_PEER'],
    ['read mode', { localId: 1, reads: 'lease-based' }, { localId: 2 }, 'READS_MISMATCH'],
    ['read mode, the other way', { localId: 1, reads: 'safe' }, { localId: 2, reads: 'lease-based' }, 'READS_MISMATCH'],
  ]
  for (const [name, dialerOptions, acceptorOptions, code] of cases) {
    const { dialer, acceptor } = exchange(dialerOptions, acceptorOptions)
    t.equal(dialer.status, 'failed', `${name}: dialer fails`)
    t.equal(acceptor.status, 'failed', `${name}: acceptor fails`)
    const codes = [dialer, acceptor].map((s) => (s.status === 'failed' ? [s.error.code, s.error.remoteCode] : []))
    t.ok(codes.some(([c]) => c === code), `${name}: one side reports ${code} (${JSON.stringify(codes)})`)
    t.ok(codes.every(([c, remote]) => c === code || (c === 'PEER_REJECTED' && remote === code)), `${name}: the other side is told ${code}`)
  }
  // Cluster ids are only compared when both sides have one.
  t.equal(exchange({ localId: 1, clusterId: 'a' }, { localId: 2 }).acceptor.status, 'done')
  t.equal(exchange({ localId: 1, reads: 'lease-based' }, { localId: 2, reads: 'lease-based' }).acceptor.status, 'done', 'the same read mode')
})

t.test('a hello without a read mode (an older node) counts as ReadIndex reads', async (t) => {
  const olderHello = (): Omit<HelloMessage, 'reads'> => ({
    type: HELLO_TYPE,
    version: PEER_PROTOCOL_VERSION,
    clusterId: null,
    nodeId: 1,
    nonce: new Uint8Array(32),
    authenticated: false,
  })
  const safe = new PeerHandshake({ role: 'acceptor', localId: 2 })
  safe.start()
  t.equal(safe.receive(olderHello()).status, 'continue', 'accepted by a node that serves ReadIndex reads')
  const lease = new PeerHandshake({ role: 'acceptor', localId: 2, reads: 'lease-based' })
  lease.start()
  const step = lease.receive(olderHello())
  t.equal(step.status === 'failed' && step.error.code, 'READS_MISMATCH', 'refused by a node that serves lease reads')
  if (step.status === 'failed') t.match(step.error.message, /node 1 serves linearizable reads with ReadIndex \('safe'\), node 2 with the leader lease \('lease-based'\)/)
})

t.test('a replayed transcript from an earlier connection is refused', async (t) => {
  const secret = 'shared'
  const recorded = exchange({ localId: 1, secret }, { localId: 2, secret })
  t.equal(recorded.acceptor.status, 'done')
  // An attacker replays the dialer's hello and proof to a fresh acceptor (fresh nonce).
  const acceptor = new PeerHandshake({ role: 'acceptor', localId: 2, secret })
  acceptor.start()
  const [hello, proof] = recorded.dialerSent
  t.equal(acceptor.receive(hello).status, 'continue')
  const step = acceptor.receive(proof)
  t.equal(step.status, 'failed')
  if (step.status === 'failed') t.equal(step.error.code, 'AUTH_FAILED')
})

t.test("a side's own proof reflected back to it is refused", async (t) => {
  const secret = 'shared'
  const acceptor = new PeerHandshake({ role: 'acceptor', localId: 2, secret })
  acceptor.start()
  // The attacker's hello, then it echoes the acceptor's own proof.
  const attacker = new PeerHandshake({ role: 'dialer', localId: 1, secret: 'unknown to the attacker' })
  const step1 = acceptor.receive(attacker.start())
  t.equal(step1.status, 'continue')
  const ownProof = step1.send[0]!
  const step2 = acceptor.receive(ownProof)
  t.equal(step2.status, 'failed')
  if (step2.status === 'failed') t.equal(step2.error.code, 'AUTH_FAILED')
})

t.test('messages out of order or ill-formed are HANDSHAKE_PROTOCOL errors', async (t) => {
  const make = () => {
    const h = new PeerHandshake({ role: 'acceptor', localId: 2 })
    h.start()
    return h
  }
  const bad: unknown[] = [
    'hello',
    { type: 'troupe-peer-proof', mac: null },
    { type: HELLO_TYPE, version: PEER_PROTOCOL_VERSION, nodeId: 0, clusterId: null, nonce: new Uint8Array(32), authenticated: false },
    { type: HELLO_TYPE, version: PEER_PROTOCOL_VERSION, nodeId: 1, clusterId: null, nonce: new Uint8Array(8), authenticated: false },
    { type: HELLO_TYPE, version: PEER_PROTOCOL_VERSION, nodeId: 1.5, clusterId: null, nonce: new Uint8Array(32), authenticated: false },
    { type: HELLO_TYPE, version: PEER_PROTOCOL_VERSION, nodeId: 1, clusterId: null, nonce: new Uint8Array(32), authenticated: false, reads: 'fast' },
    [1, 2, 3],
    null,
  ]
  for (const message of bad) {
    const step = make().receive(message)
    t.equal(step.status === 'failed' && step.error.code, 'HANDSHAKE_PROTOCOL', JSON.stringify(message))
  }
  const done = exchange({ localId: 1 }, { localId: 2 })
  t.equal(done.acceptor.status, 'done')
})

t.test('the proof depends on every field of the transcript (property)', async (t) => {
  const helloArb = fc.record({
    type: fc.constant(HELLO_TYPE as typeof HELLO_TYPE),
    version: fc.constant(PEER_PROTOCOL_VERSION),
    clusterId: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: null }),
    nodeId: fc.integer({ min: 1, max: 1000 }),
    nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    authenticated: fc.constant(true),
  })
  const secret = Buffer.from('k')
  fc.assert(
    fc.property(helloArb, helloArb, helloArb, fc.constantFrom<'dialer' | 'acceptor'>('dialer', 'acceptor'), (d: HelloMessage, a: HelloMessage, other: HelloMessage, role) => {
      const mac = proofMac(secret, role, d, a)
      const variants = [
        proofMac(secret, role === 'dialer' ? 'acceptor' : 'dialer', d, a),
        proofMac(Buffer.from('K'), role, d, a),
        proofMac(secret, role, a, d),
      ]
      for (const field of ['clusterId', 'nodeId', 'nonce'] as const) {
        if (!Object.is(JSON.stringify(other[field]), JSON.stringify(d[field]))) variants.push(proofMac(secret, role, { ...d, [field]: other[field] }, a))
        if (!Object.is(JSON.stringify(other[field]), JSON.stringify(a[field]))) variants.push(proofMac(secret, role, d, { ...a, [field]: other[field] }))
      }
      const swapped = JSON.stringify(d) === JSON.stringify(a)
      return variants.every((v, i) => (i === 2 && swapped) || !v.equals(mac))
    }),
    { numRuns: 200 },
  )
})

t.test('invalid options are refused at construction', async (t) => {
  t.throws(() => new PeerHandshake({ role: 'dialer', localId: 0 }), { code: 'INVALID_CONFIG' })
  t.throws(() => new PeerHandshake({ role: 'dialer', localId: 1, secret: '' }), { code: 'INVALID_CONFIG' })
  t.throws(() => new PeerHandshake({ role: 'dialer', localId: 1, clusterId: '' }), { code: 'INVALID_CONFIG' })
  t.throws(() => new PeerHandshake({ role: 'dialer', localId: 1, nonce: new Uint8Array(3) }), { code: 'INVALID_CONFIG' })
})
