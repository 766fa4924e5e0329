// Errors of the load generator with stable codes: callers branch on `code`,
// people read the message.

export type LoadErrorCode =
  /** The server answered with an unexpected status; `code` carries the server's error code when it sent one. */
  | 'UNEXPECTED_STATUS'
  /** The request took longer than the transport's timeout. */
  | 'REQUEST_TIMEOUT'
  /** The connection failed (refused, reset, closed before the answer). */
  | 'CONNECTION_FAILED'
  /** A node process did not start or stop as expected. */
  | 'NODE_PROCESS'
  /** Bad command-line options. */
  | 'INVALID_OPTION'

export class LoadError extends Error {
  readonly code: LoadErrorCode
  /** A short label for error tallies, e.g. `HTTP_503_UNAVAILABLE` or `ECONNREFUSED`. */
  readonly tally: string

  constructor(code: LoadErrorCode, message: string, tally: string = code) {
    super(message)
    this.name = 'LoadError'
    this.code = code
    this.tally = tally
  }
}

/** The label an error is counted under in a run's `errorsByCode`. */
export function errorTally(error: unknown): string {
  if (error instanceof LoadError) return error.tally
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.length > 0 && code.length <= 64) return code
  return 'UNKNOWN'
}
