// Every error answer of the HTTP API is `{"error":{"code","message",...}}`
// (CONTRACT §4). Codes are the node's stable codes plus the few that only
// HTTP needs (an unknown route or method, an unexpected failure).
import type { ServerResponse } from 'node:http'
import { isTroupeError, type TroupeErrorCode } from '../node/node-errors.js'

export type HttpErrorCode = TroupeErrorCode | 'ROUTE_NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'INTERNAL'

export interface HttpErrorDetails {
  /** The request field a 400 is about, e.g. `messages/3/priority` or `query.ttlMs`. */
  field?: string
  /** A batch ack's 404: exactly the receipts that were not found. */
  missing?: string[]
  /** A NOT_LEADER refusal: the node that leads the shard. */
  leader?: number
  /** Seconds a client should wait before retrying (429, 503). */
  retryAfterSec?: number
}

export class HttpError extends Error {
  readonly status: number
  readonly code: HttpErrorCode
  readonly details: HttpErrorDetails

  constructor(code: HttpErrorCode, message: string, details: HttpErrorDetails = {}) {
    super(message)
    this.name = 'HttpError'
    this.code = code
    this.status = statusOf(code)
    this.details = details
  }
}

/** Retry-After for 503s that carry no estimate of their own. */
export const RETRY_AFTER_UNAVAILABLE_SEC = 1

export function statusOf(code: HttpErrorCode): number {
  switch (code) {
    case 'INVALID_ARGUMENT':
      return 400
    case 'UNAUTHORIZED':
      return 401
    case 'QUEUE_NOT_FOUND':
    case 'RECEIPT_NOT_FOUND':
    case 'KEY_NOT_FOUND':
    case 'ROUTE_NOT_FOUND':
      return 404
    case 'METHOD_NOT_ALLOWED':
      return 405
    case 'CONFLICT':
      return 409
    case 'PAYLOAD_TOO_LARGE':
      return 413
    case 'RATE_LIMITED':
      return 429
    case 'UNAVAILABLE':
    case 'QUEUE_FULL':
    // The HTTP API forwards to the leader; a routing refusal that still
    // reaches a client means no leader could be reached in time.
    case 'NOT_LEADER':
    case 'MOVED':
      return 503
    case 'TIMEOUT':
      return 504
    case 'INTERNAL':
      return 500
  }
}

/** Turns anything a handler threw into the error to answer with. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error
  if (isTroupeError(error)) {
    const details: HttpErrorDetails = {}
    if (error.missing !== undefined) details.missing = error.missing
    if (error.code === 'NOT_LEADER' || error.code === 'MOVED') {
      if (error.leaderId !== undefined) details.leader = error.leaderId
      return new HttpError('UNAVAILABLE', error.message, { ...details, retryAfterSec: RETRY_AFTER_UNAVAILABLE_SEC })
    }
    if (error.code === 'UNAVAILABLE' || error.code === 'QUEUE_FULL') details.retryAfterSec = RETRY_AFTER_UNAVAILABLE_SEC
    return new HttpError(error.code, error.message, details)
  }
  return new HttpError('INTERNAL', 'the request failed unexpectedly')
}

export function errorBody(error: HttpError): string {
  const { field, missing, leader } = error.details
  return JSON.stringify({
    error: {
      code: error.code,
      message: error.message,
      ...(field !== undefined ? { field } : {}),
      ...(missing !== undefined ? { missing } : {}),
      ...(leader !== undefined ? { leader } : {}),
    },
  })
}

export function sendError(res: ServerResponse, error: HttpError, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = errorBody(error)
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  }
  if (error.details.retryAfterSec !== undefined) headers['retry-after'] = error.details.retryAfterSec
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer'
  if (closeConnection) headers['connection'] = 'close'
  res.writeHead(error.status, headers)
  res.end(body)
}
