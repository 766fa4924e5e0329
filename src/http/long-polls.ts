// Long-poll receives held by this server: a cap on how many at once, and the
// orphans left when a client goes away or the server closes mid-wait.
//
// A wait that is abandoned is cancelled in the shard (the receive's
// AbortSignal), so a parked receive takes no message for nobody. Only a
// receive that was already delivering when the signal fired still gets
// messages; those are released again (nack), which counts as a failed
// delivery, like a lapsed visibility timeout.
import { HttpError } from './http-error.js'
import type { Message, TroupeNode } from '../node/troupe-node.js'

export const LONG_POLLS_MAX_DEFAULT = 10_000

export class LongPolls {
  private held = 0
  private readonly orphans = new Set<Promise<void>>()

  constructor(
    private readonly node: TroupeNode,
    readonly max: number,
    private readonly onChange: (held: number) => void,
  ) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`longPollMax must be a positive integer, got ${max}`)
  }

  get count(): number {
    return this.held
  }

  /**
   * Receives with a wait of `waitMs`, answering as soon as a message comes,
   * when the wait ends (empty), or when `signal` aborts (empty; any messages
   * received after that are released).
   */
  async receive(queue: string, options: { max: number; waitMs: number; visibilityTimeoutMs?: number }, signal: AbortSignal): Promise<Message[]> {
    if (this.held >= this.max) {
      throw new HttpError('RATE_LIMITED', `this node holds its limit of ${this.max} long-poll receives; retry later`, { retryAfterSec: 1 })
    }
    this.held++
    this.onChange(this.held)
    try {
      const pending = this.node.queues.receive(queue, { ...options, signal })
      const messages = await untilAborted(pending, signal)
      if (messages === undefined) {
        this.releaseLater(queue, pending)
        return []
      }
      return messages
    } finally {
      this.held--
      this.onChange(this.held)
    }
  }

  /** Abandoned receives not settled yet. */
  get orphanCount(): number {
    return this.orphans.size
  }

  /** Waits (up to `timeoutMs`) for abandoned receives to settle and release what they got. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.orphans.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([Promise.allSettled([...this.orphans]), timeout])
    clearTimeout(timer)
  }

  private releaseLater(queue: string, pending: Promise<Message[]>): void {
    const orphan = pending
      .then(async (messages) => {
        for (const message of messages) await this.node.queues.nack(queue, message.receipt)
      })
      .catch(() => undefined)
      .finally(() => this.orphans.delete(orphan))
    this.orphans.add(orphan)
  }
}

/** The promise's value, or undefined as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
