// The one error type of the SDK. Callers branch on `code`, people read the
// message. Codes are the protocol's (docs/PROTOCOL.md, "Errors") plus the
// client's own: a call that ran out of time, a node that could not be
// reached, a connection that died with the request's outcome unknown, and a
// client that was closed.

/** Codes a node answers with (CONTRACT §4 and the two routing codes). */
export type ProtocolErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHORIZED'
  | 'QUEUE_NOT_FOUND'
  | 'RECEIPT_NOT_FOUND'
  | 'KEY_NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'QUEUE_FULL'
  | 'TIMEOUT'
  /** The node failed unexpectedly (a bug there): the outcome is unknown, as for TIMEOUT. */
  | 'INTERNAL'
  | 'NOT_LEADER'
  | 'MOVED'

export type ClientOnlyErrorCode =
  /** The call's deadline (connect option `deadlineMs`) passed; `cause` holds the last error seen. */
  | 'DEADLINE_EXCEEDED'
  /** No TCP connection or no handshake with the node (refused, unreachable, timed out). Nothing was sent. */
  | 'CONNECTION_FAILED'
  /** The connection closed after the request was written: the outcome is unknown. */
  | 'CONNECTION_LOST'
  /** The client (or the consumer) was closed. */
  | 'CLOSED'

export type ErrorCode = ProtocolErrorCode | ClientOnlyErrorCode

const PROTOCOL_CODES: ReadonlySet<string> = new Set<ProtocolErrorCode>([
  'INVALID_ARGUMENT',
  'UNAUTHORIZED',
  'QUEUE_NOT_FOUND',
  'RECEIPT_NOT_FOUND',
  'KEY_NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'QUEUE_FULL',
  'TIMEOUT',
  'INTERNAL',
  'NOT_LEADER',
  'MOVED',
])

export function isProtocolErrorCode(code: unknown): code is ProtocolErrorCode {
  return typeof code === 'string' && PROTOCOL_CODES.has(code)
}

/** A node named in a NOT_LEADER or MOVED answer. */
export interface LeaderHint {
  id: number
  /** Its client TCP address, when the answering node knows it. */
  tcp?: string
}

export interface TroupeClientErrorDetails {
  /** Requests sent for this call, the failing one included (0 when nothing could be sent). */
  attempts?: number
  leader?: LeaderHint
  /** For a batch ack: exactly the receipts that named no current delivery (the others were acked). */
  missing?: string[]
  retryAfterMs?: number
  cause?: unknown
}

export class TroupeClientError extends Error {
  readonly code: ErrorCode
  attempts: number
  readonly leader: LeaderHint | undefined
  readonly missing: string[] | undefined
  readonly retryAfterMs: number | undefined

  constructor(code: ErrorCode, message: string, details: TroupeClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'TroupeClientError'
    this.code = code
    this.attempts = details.attempts ?? 0
    this.leader = details.leader
    this.missing = details.missing
    this.retryAfterMs = details.retryAfterMs
  }
}

export function isTroupeClientError(error: unknown, code?: ErrorCode): error is TroupeClientError {
  return error instanceof TroupeClientError && (code === undefined || error.code === code)
}

/** The error a node answered with, from the wire form `{ code, message, leader?, missing?, retryAfterMs? }`. */
export function errorFromWire(wire: unknown): TroupeClientError {
  if (typeof wire !== 'object' || wire === null) {
    return new TroupeClientError('INTERNAL', `the node answered with an error that is not an object: ${JSON.stringify(wire)}`)
  }
  const fields = wire as Record<string, unknown>
  const message = typeof fields['message'] === 'string' ? fields['message'] : 'no message'
  // A code this client does not know (a newer node) says nothing about what
  // happened: treated as INTERNAL, an unknown outcome, with the code in the message.
  if (!isProtocolErrorCode(fields['code'])) {
    return new TroupeClientError('INTERNAL', `the node answered with an unknown error code ${JSON.stringify(fields['code'])}: ${message}`)
  }
  const details: TroupeClientErrorDetails = {}
  const leader = leaderFromWire(fields['leader'])
  if (leader) details.leader = leader
  if (Array.isArray(fields['missing'])) details.missing = fields['missing'].filter((r): r is string => typeof r === 'string')
  if (typeof fields['retryAfterMs'] === 'number' && Number.isFinite(fields['retryAfterMs'])) details.retryAfterMs = fields['retryAfterMs']
  return new TroupeClientError(fields['code'], message, details)
}

function leaderFromWire(wire: unknown): LeaderHint | undefined {
  if (typeof wire !== 'object' || wire === null) return undefined
  const { id, tcp } = wire as Record<string, unknown>
  if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0) return undefined
  return typeof tcp === 'string' && tcp.length > 0 ? { id, tcp } : { id }
}
