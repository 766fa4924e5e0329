// consume(): a worker loop in the spirit of BullMQ's Worker. It keeps up to
// `concurrency` handlers busy: one long-polling receive asks for as many
// messages as there are free slots, each message runs its handler, success
// acks, failure nacks with an exponential delay by receiveCount. While a
// handler runs, its delivery's visibility is extended every `extendEveryMs`
// so that a slow handler does not see its message handed to someone else.
//
// Stopping (stop() or the AbortSignal): no new receives; running handlers get
// `stopTimeoutMs` to finish (then their ctx.signal aborts and the consumer
// stops waiting for them: their messages come back after the visibility
// timeout). A receive still long-polling when the consumer stops is not
// waited for; whatever it brings back is nacked at once, so it is not held
// invisible.
import { pathToFileURL } from 'node:url'
import { resolve as resolvePath } from 'node:path'
import { Piscina } from 'piscina'
import type { Logger } from 'pino'
import { TroupeClientError, type ErrorCode } from './client-error.js'
import type { Message } from './client-types.js'
import type { QueueOperations } from './queue-operations.js'
import { retryDelayMs, sleep } from './retry-backoff.js'

export type MessageHandler = (message: Message, ctx: { signal: AbortSignal }) => Promise<void> | void

export interface ConsumeOptions {
  /** Handlers running at once. Default 1, at most 1000. */
  concurrency?: number
  /** Aborting it stops the consumer (as stop() does). */
  signal?: AbortSignal
  /** Long poll of each receive, 0..20000. Default 20 000. */
  waitMs?: number
  /** Messages asked for per receive (1..100). Default: the free slots, at most 100. */
  max?: number
  /** Visibility timeout of the deliveries and of each extension. Default: the queue's configuration. */
  visibilityTimeoutMs?: number
  /** How often a running handler's delivery is extended. Default: a third of the visibility timeout. */
  extendEveryMs?: number
  /** Nack delay after a failure: min(maxMs, initialMs * 2^(receiveCount-1)). Defaults 1 000 and 60 000. */
  nackBackoff?: { initialMs?: number; maxMs?: number }
  /** How long stop() waits for running handlers. Default 30 000. */
  stopTimeoutMs?: number
  /**
   * A module file (path or file: URL) whose default export `(message) => result`
   * runs in a piscina worker pool of `concurrency` threads instead of `handler`.
   */
  sandbox?: string | URL
}

export interface ConsumerStats {
  /** Messages received. */
  received: number
  /** Handlers that succeeded and whose ack went through. */
  processed: number
  /** Handlers that threw or rejected (their message was nacked). */
  failed: number
  /** Visibility extensions that went through. */
  extended: number
  /** Calls of the consumer itself that failed (receive, ack, nack, extend): logged, retried or left to the visibility timeout. */
  errors: number
}

export interface Consumer {
  /** Resolves with the final stats once stopped; rejects when the consumer cannot go on (QUEUE_NOT_FOUND, UNAUTHORIZED, CLOSED...). */
  readonly done: Promise<ConsumerStats>
  stats(): ConsumerStats
  /** Stops gracefully; resolves as `done` does. */
  stop(): Promise<ConsumerStats>
}

export const CONCURRENCY_MAX = 1000
const RECEIVE_MAX = 100
/** After an empty answer that came back early (no long poll), wait this long before asking again. */
const EMPTY_PAUSE_MS = 100
/** Errors that end the consumer: retrying cannot fix them. */
const FATAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['QUEUE_NOT_FOUND', 'UNAUTHORIZED', 'INVALID_ARGUMENT', 'CLOSED'])

interface Resolved {
  concurrency: number
  waitMs: number
  max: number | undefined
  visibilityTimeoutMs: number | undefined
  extendEveryMs: number | undefined
  nackInitialMs: number
  nackMaxMs: number
  stopTimeoutMs: number
  sandbox: string | undefined
}

export class QueueConsumer implements Consumer {
  readonly done: Promise<ConsumerStats>
  readonly #queues: QueueOperations
  readonly #queue: string
  readonly #handler: MessageHandler
  readonly #options: Resolved
  readonly #logger: Logger | undefined
  readonly #stats: ConsumerStats = { received: 0, processed: 0, failed: 0, extended: 0, errors: 0 }
  readonly #stopping = new AbortController()
  readonly #running = new Map<string, AbortController>()
  #slotFreed: (() => void) | undefined
  #pool: Piscina | undefined

  constructor(queues: QueueOperations, queue: string, handler: MessageHandler, options: ConsumeOptions, logger: Logger | undefined) {
    this.#queues = queues
    this.#queue = queue
    this.#handler = handler
    this.#options = resolveConsumeOptions(options)
    this.#logger = logger?.child({ consumer: queue })
    if (typeof handler !== 'function' && this.#options.sandbox === undefined) {
      throw new TroupeClientError('INVALID_ARGUMENT', 'consume() needs a handler function or a sandbox module')
    }
    if (options.signal) {
      if (options.signal.aborted) this.#stopping.abort()
      else options.signal.addEventListener('abort', () => this.#stopping.abort(), { once: true })
    }
    this.done = this.#run()
    // Observed here so that an unobserved failure is logged, not an unhandled rejection.
    this.done.catch((error: unknown) => this.#logger?.error({ err: error }, 'consumer stopped on an error'))
  }

  stats(): ConsumerStats {
    return { ...this.#stats }
  }

  stop(): Promise<ConsumerStats> {
    this.#stopping.abort()
    return this.done
  }

  async #run(): Promise<ConsumerStats> {
    try {
      const visibilityTimeoutMs = await this.#visibilityTimeoutMs()
      if (visibilityTimeoutMs !== undefined) await this.#receiveLoop(visibilityTimeoutMs)
      await this.#drain()
      return this.stats()
    } finally {
      for (const controller of this.#running.values()) controller.abort(new TroupeClientError('CLOSED', 'the consumer stopped'))
      if (this.#pool) await this.#pool.destroy().catch(() => undefined)
    }
  }

  /** The queue's visibility timeout, unless given; undefined when stopped before it was known. */
  async #visibilityTimeoutMs(): Promise<number | undefined> {
    if (this.#options.visibilityTimeoutMs !== undefined) return this.#options.visibilityTimeoutMs
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt++) {
      try {
        return (await this.#queues.get(this.#queue)).config.visibilityTimeoutMs
      } catch (error) {
        await this.#onCallError(error, 'queue.get', attempt)
      }
    }
    return undefined
  }

  async #receiveLoop(visibilityTimeoutMs: number): Promise<void> {
    const stopped = this.#stopping.signal
    const stopPromise = new Promise<void>((resolve) => stopped.addEventListener('abort', () => resolve(), { once: true }))
    const extendEveryMs = this.#options.extendEveryMs ?? Math.max(1, Math.floor(visibilityTimeoutMs / 3))
    let failures = 0
    while (!stopped.aborted) {
      const free = this.#options.concurrency - this.#running.size
      if (free <= 0) {
        await Promise.race([new Promise<void>((resolve) => (this.#slotFreed = resolve)), stopPromise])
        continue
      }
      const max = Math.min(free, this.#options.max ?? RECEIVE_MAX, RECEIVE_MAX)
      const startedAt = Date.now()
      const receiving = this.#queues.receive(this.#queue, {
        max,
        waitMs: this.#options.waitMs,
        ...(this.#options.visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs: this.#options.visibilityTimeoutMs } : {}),
      })
      let messages: Message[]
      try {
        const outcome = await Promise.race([receiving, stopPromise])
        if (outcome === undefined) {
          this.#returnLate(receiving)
          return
        }
        messages = outcome
        failures = 0
      } catch (error) {
        await this.#onCallError(error, 'receive', failures++)
        continue
      }
      this.#stats.received += messages.length
      for (const message of messages) this.#start(message, visibilityTimeoutMs, extendEveryMs)
      if (messages.length === 0 && Date.now() - startedAt < this.#options.waitMs / 2) {
        await sleep(EMPTY_PAUSE_MS, stopped).catch(() => undefined)
      }
    }
  }

  /** A receive that answers after the stop: its messages go back to the queue at once. */
  #returnLate(receiving: Promise<Message[]>): void {
    receiving
      .then((messages) => Promise.all(messages.map((m) => this.#queues.nack(this.#queue, m.receipt, { delayMs: 0 }))))
      .catch(() => undefined)
  }

  #start(message: Message, visibilityTimeoutMs: number, extendEveryMs: number): void {
    const controller = new AbortController()
    const key = message.receipt
    this.#running.set(key, controller)
    void this.#handle(message, controller, visibilityTimeoutMs, extendEveryMs).finally(() => {
      this.#running.delete(key)
      const wake = this.#slotFreed
      this.#slotFreed = undefined
      wake?.()
    })
  }

  async #handle(message: Message, controller: AbortController, visibilityTimeoutMs: number, extendEveryMs: number): Promise<void> {
    const stopExtending = this.#keepInvisible(message, controller, visibilityTimeoutMs, extendEveryMs)
    let succeeded: boolean
    try {
      await this.#invoke(message, controller.signal)
      succeeded = true
    } catch (error) {
      succeeded = false
      this.#logger?.debug({ err: error, id: message.id, receiveCount: message.receiveCount }, 'handler failed')
    } finally {
      stopExtending()
    }
    // A handler cut short by the stop timeout leaves its message to the visibility timeout.
    if (controller.signal.aborted && this.#stopping.signal.aborted) return
    try {
      if (succeeded) {
        await this.#queues.ack(this.#queue, message.receipt)
        this.#stats.processed++
      } else {
        this.#stats.failed++
        await this.#queues.nack(this.#queue, message.receipt, { delayMs: this.#nackDelayMs(message.receiveCount) })
      }
    } catch (error) {
      this.#stats.errors++
      this.#logger?.warn({ err: error, id: message.id }, succeeded ? 'ack failed: the message will be delivered again' : 'nack failed')
    }
  }

  #invoke(message: Message, signal: AbortSignal): Promise<unknown> {
    if (this.#options.sandbox === undefined) return Promise.resolve().then(() => this.#handler(message, { signal }))
    this.#pool ??= new Piscina({ filename: this.#options.sandbox, maxThreads: this.#options.concurrency, minThreads: 0 })
    return this.#pool.run(message, { signal })
  }

  /** Extends the delivery every extendEveryMs until the returned function is called. */
  #keepInvisible(message: Message, controller: AbortController, visibilityTimeoutMs: number, extendEveryMs: number): () => void {
    let timer: NodeJS.Timeout | undefined
    let active = true
    const schedule = (): void => {
      timer = setTimeout(() => {
        this.#queues.extendVisibility(this.#queue, message.receipt, visibilityTimeoutMs).then(
          () => {
            this.#stats.extended++
            if (active) schedule()
          },
          (error: unknown) => {
            this.#stats.errors++
            if (error instanceof TroupeClientError && error.code === 'RECEIPT_NOT_FOUND') {
              // The delivery lapsed: someone else may hold the message now. Tell the handler.
              controller.abort(error)
              return
            }
            this.#logger?.warn({ err: error, id: message.id }, 'visibility extension failed')
            if (active) schedule()
          },
        )
      }, extendEveryMs)
    }
    schedule()
    return () => {
      active = false
      clearTimeout(timer)
    }
  }

  #nackDelayMs(receiveCount: number): number {
    const exponent = Math.min(Math.max(0, receiveCount - 1), 30)
    return Math.min(this.#options.nackMaxMs, this.#options.nackInitialMs * 2 ** exponent)
  }

  /** Waits for running handlers, at most stopTimeoutMs. */
  async #drain(): Promise<void> {
    const deadlineAt = Date.now() + this.#options.stopTimeoutMs
    while (this.#running.size > 0 && Date.now() < deadlineAt) {
      const timeout = new AbortController()
      await Promise.race([
        new Promise<void>((resolve) => (this.#slotFreed = resolve)),
        sleep(Math.max(1, deadlineAt - Date.now()), timeout.signal).catch(() => undefined),
      ])
      timeout.abort()
    }
    if (this.#running.size > 0) this.#logger?.warn({ running: this.#running.size }, 'handlers still running at the stop timeout: their messages come back after the visibility timeout')
  }

  /** Rethrows fatal errors; otherwise logs, counts and backs off (cut short by a stop). */
  async #onCallError(error: unknown, what: string, attempt: number): Promise<void> {
    if (error instanceof TroupeClientError && FATAL_CODES.has(error.code)) throw error
    this.#stats.errors++
    this.#logger?.warn({ err: error }, `${what} failed; retrying`)
    await sleep(retryDelayMs(attempt, { initialMs: 100, maxMs: 5_000 }), this.#stopping.signal).catch(() => undefined)
  }
}

function resolveConsumeOptions(options: ConsumeOptions): Resolved {
  const int = (name: string, value: number | undefined, fallback: number | undefined, min: number, max: number): number | undefined => {
    if (value === undefined) return fallback
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new TroupeClientError('INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}, got ${value}`)
    }
    return value
  }
  const sandbox = options.sandbox === undefined ? undefined : toModuleUrl(options.sandbox)
  return {
    concurrency: int('concurrency', options.concurrency, 1, 1, CONCURRENCY_MAX)!,
    waitMs: int('waitMs', options.waitMs, 20_000, 0, 20_000)!,
    max: int('max', options.max, undefined, 1, RECEIVE_MAX),
    visibilityTimeoutMs: int('visibilityTimeoutMs', options.visibilityTimeoutMs, undefined, 1, 12 * 3600_000),
    extendEveryMs: int('extendEveryMs', options.extendEveryMs, undefined, 1, 12 * 3600_000),
    nackInitialMs: int('nackBackoff.initialMs', options.nackBackoff?.initialMs, 1_000, 0, 12 * 3600_000)!,
    nackMaxMs: int('nackBackoff.maxMs', options.nackBackoff?.maxMs, 60_000, 0, 12 * 3600_000)!,
    stopTimeoutMs: int('stopTimeoutMs', options.stopTimeoutMs, 30_000, 0, 3600_000)!,
    sandbox,
  }
}

function toModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href
  return module.startsWith('file:') ? module : pathToFileURL(resolvePath(module)).href
}
