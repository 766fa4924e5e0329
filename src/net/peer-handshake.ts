// The peer handshake: a small state machine with no I/O, driven by the
// connection (and by tests directly).
//
//   both sides, at once:   hello  {version, clusterId, nodeId, nonce, authenticated, reads}
//   each, after checking the other's hello:
//                          proof  {mac}          (mac is null when unauthenticated)
//                     or   reject {code, message} and close
//   each side is done when the other's proof verifies.
//
// A side sends its proof only after accepting the other's hello, so "done"
// also means "the other side accepted me". With a cluster secret the mac is
// HMAC-SHA256(secret, transcript) over both ids, both cluster ids, both fresh
// nonces and the prover's role: a recorded transcript is useless on a new
// connection (new nonces), and a side's proof cannot be reflected back to it
// (the role differs). The exact layout is in src/net/README.md.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { NetError, type NetErrorCode, type RemoteRefusal } from './net-error.js'

export const PEER_PROTOCOL_VERSION = 1
export const HANDSHAKE_NONCE_BYTES = 32
export const HANDSHAKE_MAC_BYTES = 32
/** The frame limit while the peer is unauthenticated (a hello is about 100 bytes). */
export const HANDSHAKE_MAX_FRAME_BYTES = 1024
export const CLUSTER_ID_MAX_CHARS = 128
const REJECT_MESSAGE_MAX_CHARS = 512
const PROOF_LABEL = 'troupe-peer-proof'

export const HELLO_TYPE = 'troupe-peer-hello'
export const PROOF_TYPE = 'troupe-peer-proof'
export const REJECT_TYPE = 'troupe-peer-reject'

export type PeerRole = 'dialer' | 'acceptor'

/**
 * How a node serves linearizable reads: `safe` (ReadIndex) or `lease-based`
 * (the leader lease). Every member must run with the same: a lease rests on
 * the other members refusing votes for an election timeout, which a member
 * that serves ReadIndex reads does not promise (it votes at once when its
 * leader's connection closes).
 */
export type ReadMode = 'safe' | 'lease-based'

export interface HelloMessage {
  type: typeof HELLO_TYPE
  version: number
  clusterId: string | null
  nodeId: number
  nonce: Uint8Array
  authenticated: boolean
  /** Absent in a hello of a node that predates it: such a node serves reads with ReadIndex. */
  reads?: ReadMode
}

export interface ProofMessage {
  type: typeof PROOF_TYPE
  mac: Uint8Array | null
}

export interface RejectMessage {
  type: typeof REJECT_TYPE
  code: string
  message: string
}

export type HandshakeMessage = HelloMessage | ProofMessage | RejectMessage

export interface PeerHandshakeOptions {
  role: PeerRole
  localId: number
  clusterId?: string | undefined
  /** The cluster secret (TROUPE_CLUSTER_SECRET); absent: unauthenticated. */
  secret?: string | Uint8Array | undefined
  /** How this node serves linearizable reads; a peer that differs is refused (READS_MISMATCH). Default `safe`. */
  reads?: ReadMode | undefined
  /** The node id the dialer meant to reach. */
  expectedRemoteId?: number | undefined
  /** Returns a reason to refuse a remote node id (unknown node, wrong dialing direction), or undefined to accept it. */
  checkRemote?: ((remoteId: number) => RemoteRefusal | undefined) | undefined
  /** For tests: fixed nonce bytes and another protocol version. */
  nonce?: Uint8Array | undefined
  version?: number | undefined
}

export interface PeerIdentity {
  remoteId: number
  remoteClusterId: string | null
  /** True when both sides proved the cluster secret. */
  authenticated: boolean
}

/** What to send after a step, and whether the handshake ended. */
export type HandshakeStep =
  | { status: 'continue'; send: HandshakeMessage[] }
  | { status: 'done'; send: HandshakeMessage[]; peer: PeerIdentity }
  | { status: 'failed'; send: HandshakeMessage[]; error: NetError }

type Phase = 'new' | 'await-hello' | 'await-proof' | 'done' | 'failed'

export class PeerHandshake {
  readonly #options: PeerHandshakeOptions
  readonly #secret: Buffer | undefined
  readonly #hello: HelloMessage & { reads: ReadMode }
  #remoteHello: HelloMessage | undefined
  #phase: Phase = 'new'

  constructor(options: PeerHandshakeOptions) {
    checkNodeId(options.localId, 'localId')
    if (options.expectedRemoteId !== undefined) checkNodeId(options.expectedRemoteId, 'expectedRemoteId')
    if (options.clusterId !== undefined && !isClusterId(options.clusterId)) {
      throw new NetError('INVALID_CONFIG', `clusterId must be 1 to ${CLUSTER_ID_MAX_CHARS} characters`)
    }
    if (options.nonce !== undefined && options.nonce.length !== HANDSHAKE_NONCE_BYTES) {
      throw new NetError('INVALID_CONFIG', `a nonce must be ${HANDSHAKE_NONCE_BYTES} bytes`)
    }
    this.#options = options
    this.#secret = secretBytes(options.secret)
    const nonce = options.nonce ?? randomBytes(HANDSHAKE_NONCE_BYTES)
    this.#hello = {
      type: HELLO_TYPE,
      version: options.version ?? PEER_PROTOCOL_VERSION,
      clusterId: options.clusterId ?? null,
      nodeId: options.localId,
      nonce,
      authenticated: this.#secret !== undefined,
      reads: options.reads ?? 'safe',
    }
  }

  get authenticated(): boolean {
    return this.#secret !== undefined
  }

  /** Our hello: the first message each side sends. */
  start(): HelloMessage {
    if (this.#phase !== 'new') throw new NetError('HANDSHAKE_PROTOCOL', 'handshake already started')
    this.#phase = 'await-hello'
    return this.#hello
  }

  /** Feeds one message from the peer. After 'done' or 'failed', the handshake takes no more messages. */
  receive(message: unknown): HandshakeStep {
    if (isReject(message)) {
      const code = String(message.code).slice(0, 64)
      const text = String(message.message).slice(0, REJECT_MESSAGE_MAX_CHARS)
      return this.#failed(new NetError('PEER_REJECTED', `peer refused the handshake: ${code}: ${text}`, { remoteCode: code }), false)
    }
    switch (this.#phase) {
      case 'await-hello':
        return this.#onHello(message)
      case 'await-proof':
        return this.#onProof(message)
      default:
        return this.#failed(new NetError('HANDSHAKE_PROTOCOL', `handshake message received in phase ${this.#phase}`), false)
    }
  }

  #onHello(message: unknown): HandshakeStep {
    if (!isRecord(message) || message['type'] !== HELLO_TYPE) {
      return this.#refuse('HANDSHAKE_PROTOCOL', 'expected a hello as the first message')
    }
    // The version first: a hello of another version may have other fields.
    if (message['version'] !== this.#hello.version) {
      return this.#refuse('VERSION_MISMATCH', `peer speaks protocol version ${String(message['version'])}, this node speaks ${this.#hello.version}`)
    }
    if (!isHello(message)) return this.#refuse('HANDSHAKE_PROTOCOL', 'ill-formed hello')
    const hello = message
    this.#remoteHello = hello
    const local = this.#hello
    if (local.clusterId !== null && hello.clusterId !== null && local.clusterId !== hello.clusterId) {
      return this.#refuse('CLUSTER_MISMATCH', `peer belongs to cluster ${JSON.stringify(hello.clusterId)}, this node to ${JSON.stringify(local.clusterId)}`)
    }
    if (hello.authenticated !== local.authenticated) {
      return this.#refuse(
        'AUTH_MISMATCH',
        local.authenticated ? 'this node requires the cluster secret and the peer has none' : 'the peer requires a cluster secret and this node has none',
      )
    }
    const remoteReads = hello.reads ?? 'safe'
    if (remoteReads !== local.reads) {
      return this.#refuse(
        'READS_MISMATCH',
        `node ${hello.nodeId} serves linearizable reads with ${readModeName(remoteReads)}, node ${local.nodeId} with ${readModeName(local.reads)}: every member must run with the same (troupe start --reads, NodeOptions.readOnly)`,
      )
    }
    if (hello.nodeId === local.nodeId) return this.#refuse('UNEXPECTED_PEER', `peer claims this node's own id ${local.nodeId}`)
    const expected = this.#options.expectedRemoteId
    if (expected !== undefined && hello.nodeId !== expected) {
      return this.#refuse('UNEXPECTED_PEER', `expected node ${expected} at this address, found node ${hello.nodeId}`)
    }
    const refusal = this.#options.checkRemote?.(hello.nodeId)
    if (typeof refusal === 'string') return this.#refuse('UNEXPECTED_PEER', `node ${hello.nodeId} refused: ${refusal}`)
    if (refusal !== undefined) return this.#refuse(refusal.code, `node ${hello.nodeId} refused: ${refusal.reason}`)
    this.#phase = 'await-proof'
    const mac = this.#secret === undefined ? null : this.#mac(this.#options.role)
    return { status: 'continue', send: [{ type: PROOF_TYPE, mac }] }
  }

  #onProof(message: unknown): HandshakeStep {
    if (!isRecord(message) || message['type'] !== PROOF_TYPE) return this.#refuse('HANDSHAKE_PROTOCOL', 'expected a proof after the hello')
    const mac = message['mac']
    if (this.#secret === undefined) {
      if (mac !== null) return this.#refuse('HANDSHAKE_PROTOCOL', 'unexpected mac on an unauthenticated connection')
    } else {
      const expected = this.#mac(this.#options.role === 'dialer' ? 'acceptor' : 'dialer')
      if (!(mac instanceof Uint8Array) || mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
        return this.#refuse('AUTH_FAILED', 'the proof of the cluster secret is wrong')
      }
    }
    this.#phase = 'done'
    const remote = this.#remoteHello!
    return {
      status: 'done',
      send: [],
      peer: { remoteId: remote.nodeId, remoteClusterId: remote.clusterId, authenticated: this.#secret !== undefined },
    }
  }

  /** The proof `prover` must send on this connection. */
  #mac(prover: PeerRole): Buffer {
    const remote = this.#remoteHello!
    const [dialer, acceptor] = this.#options.role === 'dialer' ? [this.#hello, remote] : [remote, this.#hello]
    return proofMac(this.#secret!, prover, dialer, acceptor)
  }

  /** Fails and tells the peer why. */
  #refuse(code: NetErrorCode, message: string): HandshakeStep {
    return this.#failed(new NetError(code, message), true)
  }

  #failed(error: NetError, tellPeer: boolean): HandshakeStep {
    this.#phase = 'failed'
    const send: HandshakeMessage[] = tellPeer ? [{ type: REJECT_TYPE, code: error.code, message: error.message }] : []
    return { status: 'failed', send, error }
  }
}

/**
 * HMAC-SHA256(secret, field(label) | field(prover role) | field(version) |
 * field(dialer id) | field(acceptor id) | field(dialer cluster id) |
 * field(acceptor cluster id) | field(dialer nonce) | field(acceptor nonce)),
 * where field(x) = u32 big-endian byte length of x, then x; strings and numbers
 * are UTF-8 (numbers in decimal), a null cluster id is the empty string.
 */
export function proofMac(secret: Uint8Array, prover: PeerRole, dialer: HelloMessage, acceptor: HelloMessage): Buffer {
  const hmac = createHmac('sha256', secret)
  const field = (value: string | Uint8Array): void => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(bytes.length, 0)
    hmac.update(length)
    hmac.update(bytes)
  }
  field(PROOF_LABEL)
  field(prover)
  field(String(dialer.version))
  field(String(dialer.nodeId))
  field(String(acceptor.nodeId))
  field(dialer.clusterId ?? '')
  field(acceptor.clusterId ?? '')
  field(dialer.nonce)
  field(acceptor.nonce)
  return hmac.digest()
}

export function checkNodeId(id: number, name: string): void {
  if (!Number.isSafeInteger(id) || id < 1) throw new NetError('INVALID_CONFIG', `${name} must be a positive integer, got ${id}`)
}

function secretBytes(secret: string | Uint8Array | undefined): Buffer | undefined {
  if (secret === undefined) return undefined
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
  // An empty secret would look configured while proving nothing.
  if (bytes.length === 0) throw new NetError('INVALID_CONFIG', 'the cluster secret is empty; leave it unset for an unauthenticated cluster')
  return bytes
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function isClusterId(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= CLUSTER_ID_MAX_CHARS
}

function isHello(value: Record<string, unknown>): value is Record<string, unknown> & HelloMessage {
  const nodeId = value['nodeId']
  const nonce = value['nonce']
  const clusterId = value['clusterId']
  return (
    typeof nodeId === 'number' &&
    Number.isSafeInteger(nodeId) &&
    nodeId >= 1 &&
    nonce instanceof Uint8Array &&
    nonce.length === HANDSHAKE_NONCE_BYTES &&
    (clusterId === null || isClusterId(clusterId)) &&
    typeof value['authenticated'] === 'boolean' &&
    (value['reads'] === undefined || value['reads'] === 'safe' || value['reads'] === 'lease-based')
  )
}

function readModeName(mode: ReadMode): string {
  return mode === 'safe' ? "ReadIndex ('safe')" : "the leader lease ('lease-based')"
}

function isReject(value: unknown): value is RejectMessage {
  return isRecord(value) && value['type'] === REJECT_TYPE
}
