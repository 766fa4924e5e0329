// Runs async work one piece after another, in the order given. A piece that
// fails does not stop the next one; its caller gets the failure.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private waiting = 0

  run<T>(work: () => Promise<T>): Promise<T> {
    this.waiting++
    const next = this.tail.then(work, work)
    const settled = next.then(
      () => void this.waiting--,
      () => void this.waiting--,
    )
    this.tail = settled
    return next
  }

  /** No work queued or running. */
  get idle(): boolean {
    return this.waiting === 0
  }

  /** Resolves once everything queued so far has settled. */
  drained(): Promise<void> {
    return this.tail.then(() => undefined)
  }
}
