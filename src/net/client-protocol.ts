// The shapes of the client protocol, version 1 (docs/PROTOCOL.md): what the
// server reads and writes on a client connection. Plain msgpack maps.
import type { TroupeErrorCode } from '../node/node-errors.js'

/** The protocol version this server speaks. */
export const CLIENT_PROTOCOL_VERSION = 1
/** Every version the server accepts in a hello (listed in the refusal of any other). */
export const CLIENT_PROTOCOL_VERSIONS: readonly number[] = [CLIENT_PROTOCOL_VERSION]

/**
 * The node's codes, plus INTERNAL for a failure the server did not expect (a
 * bug: the outcome is unknown, like TIMEOUT).
 */
export type ClientErrorCode = TroupeErrorCode | 'INTERNAL'

/** Where to send a request that got NOT_LEADER or MOVED. */
export interface LeaderHint {
  id: number
  /** The node's client TCP address, absent until that node has announced it. */
  tcp?: string
}

export interface ClientWireError {
  code: ClientErrorCode
  message: string
  leader?: LeaderHint
  /** A batch ack's RECEIPT_NOT_FOUND: exactly the receipts not found (the others were acked). */
  missing?: string[]
  /** RATE_LIMITED, UNAVAILABLE, QUEUE_FULL: how long to wait before retrying. */
  retryAfterMs?: number
}

/** The client's first frame. */
export interface ClientHello {
  op: 'hello'
  v: number
  token?: string
  client?: string
  /** Run every request on the shard's leader (forwarding) instead of answering NOT_LEADER. */
  forward?: boolean
}

export interface ClientWelcome {
  op: 'welcome'
  v: number
  node: number
  shards: number
  maxFrameBytes: number
  maxInFlight: number
}

export interface ClientRequest {
  id: number
  op: string
  [argument: string]: unknown
}

export type ClientAnswer =
  | { id: number; ok: true; r: unknown }
  | { id: number; ok: false; error: ClientWireError }
  /** Connection-level: the server closes the connection after it. */
  | { id: null; ok: false; error: ClientWireError }
