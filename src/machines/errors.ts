// Errors of the state machines. Bad input is answered with a `MachineError`
// value (stable code + human message), never thrown: `apply` must not fail on
// a log entry. A violated invariant is a bug and throws `MachineInvariantError`.

export type MachineErrorCode =
  | 'INVALID_ARGUMENT'
  | 'PAYLOAD_TOO_LARGE'
  | 'QUEUE_NOT_FOUND'
  | 'RECEIPT_NOT_FOUND'
  | 'KEY_NOT_FOUND'
  | 'CONFLICT'
  | 'QUEUE_FULL'

export interface MachineError {
  code: MachineErrorCode
  message: string
}

export function machineError(code: MachineErrorCode, message: string): MachineError {
  return { code, message }
}

export function isMachineError(value: unknown): value is MachineError {
  return typeof value === 'object' && value !== null && typeof (value as MachineError).code === 'string' && typeof (value as MachineError).message === 'string'
}

export class MachineInvariantError extends Error {
  readonly code = 'MACHINE_INVARIANT'
  constructor(message: string) {
    super(message)
    this.name = 'MachineInvariantError'
  }
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new MachineInvariantError(message)
}
