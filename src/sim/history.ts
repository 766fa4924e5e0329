// The client history a linearizability check reads: one record per operation
// with the times it was invoked and answered. An operation whose outcome is
// unknown (the client timed out, the connection dropped, the node was killed)
// has no `returnTime` and no `output`: it may or may not have taken effect,
// at any moment after its call.

export interface HistoryOperation<Input, Output> {
  /** Unique within one history; used in failure reports. */
  id: number
  /** Who issued it; operations of one client never overlap. */
  clientId: number
  /** When the call was sent. Any monotonic clock, shared by all clients. */
  callTime: number
  /** When the answer arrived; absent when the outcome is unknown. */
  returnTime?: number
  input: Input
  /** The answer; absent when the outcome is unknown. */
  output?: Output
}

/** Whether the operation's outcome is known (it returned with an answer). */
export function isCompleted<Input, Output>(
  op: HistoryOperation<Input, Output>,
): op is HistoryOperation<Input, Output> & { returnTime: number; output: Output } {
  return op.returnTime !== undefined && op.output !== undefined
}

/** The KV operations the checker's KV model understands. */
export type KvInput =
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  /** With `expectedVersion`, deletes only when the key has that version. */
  | { kind: 'delete'; key: string; expectedVersion?: number }
  /**
   * Writes `value` only when the key's version is `expectedVersion`; version 0
   * stands for "absent" (create only if missing), as the KV machine's `ifVersion`.
   */
  | { kind: 'cas'; key: string; expectedVersion: number; value: string }

/**
 * Answers, by input kind. A `version` is optional everywhere: histories from a
 * store without versions check on values alone. Versions are opaque numbers
 * (a counter, a log index): the model only requires that a read reports the
 * version the last write of the value reported.
 */
export interface KvGetOutput {
  kind: 'get'
  /** `null` when the key does not exist. */
  value: string | null
  version?: number
}

export interface KvPutOutput {
  kind: 'put'
  version?: number
}

export interface KvDeleteOutput {
  kind: 'delete'
  /** Whether the key existed (false: KEY_NOT_FOUND); omit when the store does not say. */
  existed?: boolean
  /** The version of the value deleted, when the store says. */
  version?: number
  /** True when `expectedVersion` did not match: nothing was deleted. */
  conflict?: boolean
}

export interface KvCasOutput {
  kind: 'cas'
  ok: boolean
  /** The new version when `ok`. */
  version?: number
}

export type KvOutput = KvGetOutput | KvPutOutput | KvDeleteOutput | KvCasOutput

export type KvOperation = HistoryOperation<KvInput, KvOutput>

/**
 * Records a history as it happens: `invoke` when a client sends, then
 * `complete` with the answer or `fail` when the answer will never come
 * (the outcome stays unknown). Times come from the caller's clock.
 */
export class HistoryRecorder<Input, Output> {
  readonly #operations: HistoryOperation<Input, Output>[] = []
  readonly #open = new Set<number>()
  readonly #cancelled = new Set<number>()
  readonly #maxOperations: number

  constructor(maxOperations = 1_000_000) {
    this.#maxOperations = maxOperations
  }

  invoke(clientId: number, input: Input, callTime: number): number {
    if (this.#operations.length >= this.#maxOperations) {
      throw new HistoryError('HISTORY_FULL', `history holds at most ${this.#maxOperations} operations`)
    }
    const id = this.#operations.length
    this.#operations.push({ id, clientId, callTime, input })
    this.#open.add(id)
    return id
  }

  complete(id: number, output: Output, returnTime: number): void {
    const op = this.#take(id)
    if (returnTime < op.callTime) {
      throw new HistoryError('HISTORY_TIME', `operation ${id} returned at ${returnTime} before its call at ${op.callTime}`)
    }
    op.output = output
    op.returnTime = returnTime
  }

  /** The answer will never be known: the operation may or may not have taken effect. */
  fail(id: number): void {
    this.#take(id)
  }

  /** The operation certainly did not take effect (every attempt was refused): drop it. */
  cancel(id: number): void {
    this.#take(id)
    this.#cancelled.add(id)
  }

  get size(): number {
    return this.#operations.length
  }

  /** The operations so far, without cancelled ones; ones still open count as unknown outcome. */
  operations(): HistoryOperation<Input, Output>[] {
    return this.#operations.filter((op) => !this.#cancelled.has(op.id)).map((op) => ({ ...op }))
  }

  #take(id: number): HistoryOperation<Input, Output> {
    const op = this.#operations[id]
    if (op === undefined || !this.#open.delete(id)) {
      throw new HistoryError('HISTORY_NOT_OPEN', `operation ${id} is not open`)
    }
    return op
  }
}

export type HistoryErrorCode = 'HISTORY_FULL' | 'HISTORY_TIME' | 'HISTORY_NOT_OPEN'

export class HistoryError extends Error {
  readonly code: HistoryErrorCode

  constructor(code: HistoryErrorCode, message: string) {
    super(message)
    this.name = 'HistoryError'
    this.code = code
  }
}
