// Errors of the actor runtime carry a stable code (callers branch on it) and a
// human message (people read it), in the manner of fastify's FST_ERR_* codes.

export type RuntimeErrorCode =
  | 'MAILBOX_FULL' // the target's mailbox (or the link to its thread) is full: back off
  | 'ASK_TIMEOUT' // no answer within the ask's timeout
  | 'ABORTED' // the caller's AbortSignal fired
  | 'ACTOR_STOPPED' // the actor is stopped (or stopped before it answered)
  | 'ACTOR_FAILED' // the actor threw while handling this very message
  | 'ACTOR_START_FAILED' // a factory or `started` hook threw
  | 'RESTART_INTENSITY' // a supervisor restarted too often and gave up
  | 'THREAD_EXITED' // the worker thread hosting the actor died
  | 'DUPLICATE_CHILD' // a supervisor already has a child with that id
  | 'CHILD_NOT_FOUND' // a supervisor has no child with that id
  | 'CHILD_RUNNING' // the child must be terminated first
  | 'SYSTEM_STOPPED' // the actor system is shut down
  | 'INVALID_ARGUMENT'

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode

  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RuntimeError'
    this.code = code
  }
}

export function isRuntimeError(error: unknown, code?: RuntimeErrorCode): error is RuntimeError {
  return error instanceof RuntimeError && (code === undefined || error.code === code)
}

/** Normalises anything thrown into an Error (user code may throw strings). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  return new Error(typeof thrown === 'string' ? thrown : `non-error thrown: ${String(thrown)}`)
}
