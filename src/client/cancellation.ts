// A call's cancellation: the deadline timer cancels it, and whatever the call
// waits on (a request on a connection, a backoff sleep) listens. Lighter than
// an AbortController per call (EventTarget costs showed in client profiles),
// and a call waits on one thing at a time, so listeners stay few.

export class Cancellation<Reason = unknown> {
  #reason: Reason | undefined
  #cancelled = false
  #listeners: (() => void)[] = []

  get cancelled(): boolean {
    return this.#cancelled
  }

  /** Set once cancelled. */
  get reason(): Reason | undefined {
    return this.#reason
  }

  cancel(reason: Reason): void {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#reason = reason
    const listeners = this.#listeners
    this.#listeners = []
    for (const listener of listeners) listener()
  }

  /** Calls `listener` once on cancellation; the returned function unsubscribes. */
  subscribe(listener: () => void): () => void {
    this.#listeners.push(listener)
    return () => {
      const i = this.#listeners.indexOf(listener)
      if (i >= 0) this.#listeners.splice(i, 1)
    }
  }

  /** A cancellation that cancels itself after `ms` (the timer does not keep the process alive). */
  static after<Reason>(ms: number, reason: () => Reason): { cancellation: Cancellation<Reason>; dispose(): void } {
    const cancellation = new Cancellation<Reason>()
    const timer = setTimeout(() => cancellation.cancel(reason()), ms)
    timer.unref()
    return { cancellation, dispose: () => clearTimeout(timer) }
  }
}
