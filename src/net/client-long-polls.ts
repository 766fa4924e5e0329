// Long-poll receives held by the client server: a cap on how many at once for
// the whole server (beyond it RATE_LIMITED, as the HTTP API answers 429), and
// the orphans a closed connection or a closing server leaves behind.
//
// An abandoned wait (the connection closed, the server is shutting down) is
// cancelled in the shard through the receive's AbortSignal, so a parked
// receive takes no message for nobody. Only a receive that was already
// delivering when the signal fired still gets messages; those are released
// (nack) at once instead of staying invisible for a visibility timeout. The
// release counts as a failed delivery, like a lapsed visibility timeout.
import { TroupeError } from '../node/node-errors.js'
import type { Message, Queues, ReceiveOptions } from '../node/troupe-node.js'

/** How long close() waits for cancelled receives to settle (a cancel is one message to the shard's replicas). */
export const LONG_POLL_DRAIN_MS = 2_000

export class ClientLongPolls {
  #held = 0
  readonly #orphans = new Set<Promise<void>>()

  constructor(readonly max: number) {}

  get held(): number {
    return this.#held
  }

  /**
   * Receives with a wait of `options.waitMs`, answering as soon as a message
   * comes, when the wait ends (empty), or when `signal` aborts (empty; what
   * the cancelled receive still delivers is released).
   */
  async receive(queues: Queues, queue: string, options: Required<Pick<ReceiveOptions, 'max' | 'waitMs'>> & ReceiveOptions, signal: AbortSignal): Promise<Message[]> {
    if (this.#held >= this.max) {
      throw new TroupeError('RATE_LIMITED', `this node holds its limit of ${this.max} long-poll receives; retry later`)
    }
    this.#held++
    try {
      const pending = queues.receive(queue, { ...options, signal })
      const messages = await untilAborted(pending, signal)
      if (messages === undefined) {
        this.#releaseLater(queues, queue, pending)
        return []
      }
      return messages
    } finally {
      this.#held--
    }
  }

  /** Waits, at most `timeoutMs`, for abandoned receives to settle and release what they got. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#orphans.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
    await Promise.race([Promise.allSettled([...this.#orphans]), timeout])
    clearTimeout(timer)
  }

  #releaseLater(queues: Queues, queue: string, pending: Promise<Message[]>): void {
    const orphan = pending
      .then(async (messages) => {
        for (const message of messages) await queues.nack(queue, message.receipt)
      })
      .catch(() => undefined)
      .finally(() => this.#orphans.delete(orphan))
    this.#orphans.add(orphan)
  }
}

/** The promise's value, or undefined as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined)
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined)
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
