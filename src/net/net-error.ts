// Errors of the network layer carry a stable code (callers branch on it) and a
// human message (people read it). Every error that ends a connection is one of
// these; the connection reports it once, through its close callback.

export type NetErrorCode =
  | 'INVALID_CONFIG' // an option is out of range; thrown synchronously at construction
  | 'INVALID_ADDRESS' // a peer address is not `host:port`
  | 'FRAME_TOO_LARGE' // a length prefix (or a message to send) is over maxFrameBytes
  | 'FRAME_MALFORMED' // a frame's payload is not exactly one msgpack value
  | 'MESSAGE_UNENCODABLE' // msgpack cannot encode the value given to send()
  | 'HANDSHAKE_TIMEOUT' // the handshake did not finish in handshakeTimeoutMs
  | 'HANDSHAKE_PROTOCOL' // an unexpected or ill-formed handshake message
  | 'VERSION_MISMATCH' // the peers speak different protocol versions
  | 'CLUSTER_MISMATCH' // both peers name a cluster id, and they differ
  | 'READS_MISMATCH' // the peers serve linearizable reads differently (ReadIndex, leader lease): a cluster's members must agree
  | 'AUTH_MISMATCH' // one side has a cluster secret, the other has none
  | 'AUTH_FAILED' // the peer's proof of the cluster secret is wrong
  | 'UNEXPECTED_PEER' // the peer's node id is not the one expected (or not acceptable)
  | 'KNOCK' // the peer dialed a node that dials it (the lower id dials): refused, and that node dials now
  | 'REMOVED' // the peer was removed from the cluster: refused, so that it learns it
  | 'PEER_REJECTED' // the remote side refused our handshake (its code is in `remoteCode`)
  | 'TOO_MANY_HANDSHAKES' // the server is at its limit of unauthenticated connections
  | 'CONNECT_FAILED' // the TCP connection could not be established
  | 'LISTEN_FAILED' // the server could not bind its address
  | 'CONNECTION_LOST' // the socket closed or failed
  | 'IDLE_TIMEOUT' // nothing arrived from the peer within idleTimeoutMs
  | 'REPLACED' // a newer connection from the same peer took this one's place
  | 'CLOSED' // closed locally

/**
 * Why an acceptor refuses a node during the handshake (see checkRemote): a
 * reason alone is UNEXPECTED_PEER; a knock (PeerLink) is expected and is
 * not logged as a failure; REMOVED tells a node that it was removed from the
 * cluster (see PeerTransportOptions.isRemoved).
 */
export type RemoteRefusal = string | { code: 'KNOCK' | 'REMOVED'; reason: string }

/**
 * Handshake refusals that a node acts on (see PeerLinkOptions.onRefusal):
 * REMOVED, this node was removed from the cluster; READS_MISMATCH, the two
 * serve linearizable reads differently.
 */
export type NodeRefusalCode = 'REMOVED' | 'READS_MISMATCH'

export class NetError extends Error {
  readonly code: NetErrorCode
  /** For PEER_REJECTED: the code the remote side gave for refusing us. */
  readonly remoteCode: string | undefined

  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown; remoteCode?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NetError'
    this.code = code
    this.remoteCode = options?.remoteCode
  }
}

/** Why a handshake was refused, whichever side refused it: the remote side's code for PEER_REJECTED, else this side's. */
export function refusalCode(error: NetError): string {
  return error.code === 'PEER_REJECTED' && error.remoteCode !== undefined ? error.remoteCode : error.code
}

export function isNetError(error: unknown, code?: NetErrorCode): error is NetError {
  return error instanceof NetError && (code === undefined || error.code === code)
}
