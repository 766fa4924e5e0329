// The errors the node's APIs answer with: the contract's stable codes
// (CONTRACT §4) and a human message; HTTP and TCP map them one to one.

export type TroupeErrorCode =
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
  | 'NOT_LEADER'
  | 'MOVED'

export class TroupeError extends Error {
  readonly code: TroupeErrorCode
  /** For NOT_LEADER: the node that leads the shard, when known; for MOVED: a node with a replica. */
  readonly leaderId: number | undefined
  /** For a batch ack: exactly the receipts that were not found (the others were acked). */
  readonly missing: string[] | undefined

  constructor(code: TroupeErrorCode, message: string, details: { leaderId?: number; missing?: string[] } = {}) {
    super(message)
    this.name = 'TroupeError'
    this.code = code
    this.leaderId = details.leaderId
    this.missing = details.missing
  }
}

export function isTroupeError(error: unknown, code?: TroupeErrorCode): error is TroupeError {
  return error instanceof TroupeError && (code === undefined || error.code === code)
}

/** An error of its own for each caller that shares a refusal (its own stack), with the same code and details. */
export function copyError(error: TroupeError): TroupeError {
  return new TroupeError(error.code, error.message, {
    ...(error.leaderId !== undefined ? { leaderId: error.leaderId } : {}),
    ...(error.missing !== undefined ? { missing: error.missing } : {}),
  })
}
