// Collects the calls of one turn of the event loop by key, and hands each
// key's calls over in one go once the turn is over (at setImmediate: after
// the turn's I/O callbacks and microtasks, so callers woken by one batch of
// answers that call again in the same turn land in the same group). The
// coalescers of sends, receives and acks are built on it: each splits a
// key's calls into commands and settles every call from its command's answer.
import { copyError, TroupeError } from './node-errors.js'

/** One caller waiting in a group: what it asked and how to answer it. */
export interface PendingCall<In, Out> {
  input: In
  resolve(output: Out): void
  reject(error: unknown): void
}

export class TurnGroups<Key, In, Out> {
  #pending = new Map<Key, PendingCall<In, Out>[]>()
  #flushScheduled = false
  readonly #flush: (key: Key, calls: PendingCall<In, Out>[]) => void

  /** `flush` gets each key's calls in the order they were made. */
  constructor(flush: (key: Key, calls: PendingCall<In, Out>[]) => void) {
    this.#flush = flush
  }

  /** Joins the turn's group for `key`; settles when `flush` settles this call. */
  call(key: Key, input: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      let calls = this.#pending.get(key)
      if (calls === undefined) {
        calls = []
        this.#pending.set(key, calls)
      }
      calls.push({ input, resolve, reject })
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => this.#flushAll())
      }
    })
  }

  #flushAll(): void {
    this.#flushScheduled = false
    const pending = this.#pending
    this.#pending = new Map()
    for (const [key, calls] of pending) this.#flush(key, calls)
  }
}

/** A refusal of a whole command goes to each of its callers, each with an error of its own (its own stack). */
export function rejectEach(calls: readonly PendingCall<unknown, unknown>[], error: unknown): void {
  for (const call of calls) call.reject(error instanceof TroupeError ? copyError(error) : error)
}
