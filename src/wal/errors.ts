/** Stable error codes of the storage layer; callers branch on `code`, people read `message`. */
export type WalErrorCode =
  | 'WAL_CLOSED'
  | 'WAL_FAILED'
  | 'WAL_LOCKED'
  | 'WAL_OVERLOADED'
  | 'WAL_INVALID_ARGUMENT'
  | 'WAL_NOT_CONTIGUOUS'
  | 'WAL_WRITE_TOO_LARGE'
  | 'WAL_COMPACTED'
  | 'WAL_OUT_OF_RANGE'
  | 'WAL_CORRUPT_RECORD'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_TOO_LARGE'
  | 'SNAPSHOT_STORE_CLOSED'

export class WalError extends Error {
  readonly code: WalErrorCode

  constructor(code: WalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'WalError'
    this.code = code
  }
}

export function isWalError(error: unknown, code?: WalErrorCode): error is WalError {
  return error instanceof WalError && (code === undefined || error.code === code)
}
