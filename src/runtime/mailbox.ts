// A bounded FIFO of envelopes. Memory is bounded by `capacity`; what happens
// when it is full is an explicit policy chosen per actor:
//   'reject'      the new message is refused: tell() returns false, ask()
//                 rejects with MAILBOX_FULL, send() waits for room. This is
//                 the default: the sender feels the backpressure.
//   'drop-oldest' the oldest queued message is discarded to make room (for
//                 lossy streams such as metrics samples where fresh wins).
import { RuntimeError } from './errors.js'

export type OverflowPolicy = 'reject' | 'drop-oldest'

export interface MailboxOptions {
  /** Most messages queued at once. */
  capacity?: number
  overflow?: OverflowPolicy
}

export const mailboxDefaults = { capacity: 1024, overflow: 'reject' as OverflowPolicy }

export class Mailbox<T> {
  readonly capacity: number
  readonly overflow: OverflowPolicy
  private items: (T | undefined)[]
  private head = 0
  private count = 0
  private spaceWaiters: (() => void)[] = []

  constructor(options: MailboxOptions = {}) {
    this.capacity = options.capacity ?? mailboxDefaults.capacity
    this.overflow = options.overflow ?? mailboxDefaults.overflow
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new RuntimeError('INVALID_ARGUMENT', `mailbox capacity must be a positive integer, got ${this.capacity}`)
    }
    this.items = new Array<T | undefined>(Math.min(this.capacity, 64))
  }

  get size(): number {
    return this.count
  }

  get isFull(): boolean {
    return this.count >= this.capacity
  }

  /**
   * Queues an item. Returns the item that was dropped to make room under
   * 'drop-oldest', `undefined` when nothing was dropped, or throws
   * MAILBOX_FULL under 'reject'.
   */
  push(item: T): T | undefined {
    let dropped: T | undefined
    if (this.count >= this.capacity) {
      if (this.overflow === 'reject') {
        throw new RuntimeError('MAILBOX_FULL', `mailbox full (${this.capacity} messages)`)
      }
      dropped = this.shift()
    }
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
    return dropped
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    if (this.spaceWaiters.length > 0 && this.count < this.capacity) this.spaceWaiters.shift()!()
    return item
  }

  /** Removes every item, returning them in order. */
  drain(): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }

  /** Resolves once there is room for one more item (immediately if there is). */
  waitForSpace(): Promise<void> {
    if (this.count < this.capacity) return Promise.resolve()
    return new Promise((resolve) => this.spaceWaiters.push(resolve))
  }

  /** Wakes every space waiter, e.g. when the owner stops for good. */
  releaseWaiters(): void {
    const waiters = this.spaceWaiters
    this.spaceWaiters = []
    for (const wake of waiters) wake()
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.items.length * 2)
    const next = new Array<T | undefined>(size)
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }
}
