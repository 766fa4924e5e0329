// Virtual time: a binary heap of events ordered by (time, insertion order).
// Nothing in the simulator reads a real clock; events at equal times run in
// the order they were scheduled, so a seed fixes the whole run.

export interface ScheduledEvent<T> {
  atMs: number
  /** Insertion order; breaks ties between equal times. */
  seq: number
  event: T
}

export class EventQueue<T> {
  readonly #heap: ScheduledEvent<T>[] = []
  readonly #capacity: number
  #seq = 0
  #nowMs = 0

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  get nowMs(): number {
    return this.#nowMs
  }

  get size(): number {
    return this.#heap.length
  }

  /** Schedules `event` at `nowMs + delayMs`; throws SIM_QUEUE_FULL at capacity. */
  schedule(delayMs: number, event: T): void {
    if (!(delayMs >= 0)) throw new RangeError(`delayMs must be >= 0, got ${delayMs}`)
    if (this.#heap.length >= this.#capacity) {
      throw new SimQueueFullError(`event queue holds at most ${this.#capacity} events`)
    }
    const heap = this.#heap
    heap.push({ atMs: this.#nowMs + delayMs, seq: this.#seq++, event })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  /** Removes the earliest event and moves the clock to its time. */
  pop(): ScheduledEvent<T> | undefined {
    const heap = this.#heap
    const top = heap[0]
    if (top === undefined) return undefined
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let smallest = i
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
        if (smallest === i) break
        ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
        i = smallest
      }
    }
    this.#nowMs = top.atMs
    return top
  }
}

function before<T>(a: ScheduledEvent<T>, b: ScheduledEvent<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
}

export class SimQueueFullError extends Error {
  readonly code = 'SIM_QUEUE_FULL'

  constructor(message: string) {
    super(message)
    this.name = 'SimQueueFullError'
  }
}
