// Errors of the peers benchmark carry a stable code (callers and tests branch
// on it) and a message a person can act on.

export type PeerBenchErrorCode =
  | 'INVALID_OPTION'
  | 'BINARY_MISSING'
  | 'INSTALL_FAILED'
  | 'PROCESS_EXITED'
  | 'READY_TIMEOUT'
  | 'SETUP_FAILED'

export class PeerBenchError extends Error {
  override readonly name = 'PeerBenchError'

  constructor(
    readonly code: PeerBenchErrorCode,
    message: string,
  ) {
    super(message)
  }
}
