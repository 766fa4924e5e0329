// The running side of one actor: its mailbox, its current behaviour instance
// and its lifecycle. The cell outlives instances: a restart swaps the instance
// and keeps the mailbox (minus the message that crashed), so refs stay valid.
import type { Logger } from 'pino'
import { Deferred, type ActorAddress, type ActorContext, type ActorFactory, type ActorRef, type Behavior, type ExitReason } from './actor.js'
import { RuntimeError, toError } from './errors.js'
import { Mailbox, type MailboxOptions } from './mailbox.js'
import { ActorCounters } from './metrics.js'

/** A queued message, with where its answer goes when it came from an ask. */
export interface Envelope<M, R> {
  message: M
  reply?: Reply<R>
}

export interface Reply<R> {
  resolve(value: R): void
  reject(error: Error): void
  /** Set when the asker gave up (timeout, abort): the message is skipped. */
  cancelled?: boolean
}

type CellState = 'idle' | 'starting' | 'running' | 'failed' | 'stopping' | 'stopped'

/** Messages handled per turn before yielding the event loop to other work. */
const messagesPerTurnMax = 256

export interface CellOptions<M, R> {
  name: string
  address: ActorAddress
  factory: ActorFactory<M, R>
  mailbox?: MailboxOptions
  log: Logger
  /** Called once per self-initiated exit (crash or ctx.stop()), never for stops the owner asked for. */
  onExit: (reason: ExitReason) => void
  makeRef: (cell: ActorCell<M, R>) => ActorRef<M, R>
}

export class ActorCell<M, R> {
  readonly name: string
  readonly address: ActorAddress
  readonly ref: ActorRef<M, R>
  readonly counters = new ActorCounters()
  readonly log: Logger
  private readonly mailbox: Mailbox<Envelope<M, R>>
  private readonly factory: ActorFactory<M, R>
  private readonly onExit: (reason: ExitReason) => void
  private state: CellState = 'idle'
  private behavior: Behavior<M, R> | undefined
  private context: ActorContext<M, R> | undefined
  private controller = new AbortController()
  /** Settles when the instance's current message (or start) is done. */
  private busy: Promise<void> = Promise.resolve()
  private draining = false
  private stopRequested = false
  private instances = 0
  private restarts = 0
  private lastError: Error | undefined

  constructor(options: CellOptions<M, R>) {
    this.name = options.name
    this.address = options.address
    this.factory = options.factory
    this.onExit = options.onExit
    this.log = options.log
    this.mailbox = new Mailbox(options.mailbox)
    this.ref = options.makeRef(this)
  }

  get mailboxSize(): number {
    return this.mailbox.size
  }

  /** Whether the mailbox is at capacity (a 'reject' mailbox would refuse the next message). */
  get mailboxFull(): boolean {
    return this.mailbox.overflow === 'reject' && this.mailbox.isFull
  }

  get isStopped(): boolean {
    return this.state === 'stopped'
  }

  get isRunning(): boolean {
    return this.state === 'running'
  }

  /** Queues an envelope. False when the mailbox refuses it or the actor is stopped. */
  enqueue(envelope: Envelope<M, R>): boolean {
    if (this.state === 'stopped') return false
    let dropped: Envelope<M, R> | undefined
    try {
      dropped = this.mailbox.push(envelope)
    } catch {
      this.counters.rejected++
      return false
    }
    if (dropped !== undefined) {
      this.counters.dropped++
      dropped.reply?.reject(new RuntimeError('MAILBOX_FULL', `${this.name}: message dropped by the drop-oldest policy`))
    }
    this.counters.received++
    this.schedule()
    return true
  }

  waitForSpace(): Promise<void> {
    return this.mailbox.waitForSpace()
  }

  /** Creates a fresh instance and runs its start hooks. Throws ACTOR_START_FAILED. */
  async start(): Promise<void> {
    if (this.state === 'stopped') throw new RuntimeError('ACTOR_STOPPED', `${this.name} is stopped`)
    const isRestart = this.instances > 0
    this.instances++
    if (isRestart) {
      this.restarts++
      this.counters.restarts++
    }
    this.state = 'starting'
    this.stopRequested = false
    this.controller = new AbortController()
    const context = this.createContext()
    this.context = context
    const starting = (async () => {
      const behavior = await this.factory(context)
      if (isRestart && behavior.restarting) await behavior.restarting(this.lastError, context)
      if (behavior.started) await behavior.started(context)
      this.behavior = behavior
    })()
    this.busy = starting.then(
      () => undefined,
      () => undefined,
    )
    try {
      await starting
    } catch (thrown) {
      const error = toError(thrown)
      this.lastError = error
      this.state = 'failed'
      this.controller.abort(error)
      throw new RuntimeError('ACTOR_START_FAILED', `${this.name} failed to start: ${error.message}`, { cause: error })
    }
    if (this.state !== 'starting') return // stopped while starting
    this.state = 'running'
    this.schedule()
  }

  /**
   * Ends the current instance: fires its signal, waits for the message in
   * hand and the `stopping` hook for at most `timeoutMs`, then gives up on it
   * (forced). The mailbox is kept for a later start().
   */
  async stopInstance(reason: ExitReason, timeoutMs: number): Promise<'graceful' | 'forced'> {
    if (this.state === 'stopped' || this.state === 'idle') return 'graceful'
    const behavior = this.behavior
    const context = this.context
    const wasFailed = this.state === 'failed'
    this.state = 'stopping'
    this.controller.abort(new RuntimeError('ACTOR_STOPPED', `${this.name} is stopping`))
    const graceful = (async () => {
      await this.busy
      // A failed instance already ran its stopping hook when it crashed.
      if (!wasFailed && behavior?.stopping && context) await behavior.stopping(reason, context)
    })()
    const outcome = await settleWithin(graceful, timeoutMs)
    if (outcome === 'rejected') this.log.warn({ reason: reason.kind }, 'stopping hook threw')
    if (outcome === 'timeout') this.log.warn({ timeoutMs }, 'did not stop in time: forced')
    this.behavior = undefined
    this.context = undefined
    if (this.state === 'stopping') this.state = 'idle'
    return outcome === 'timeout' ? 'forced' : 'graceful'
  }

  /** Stops for good: later messages are refused and queued asks rejected. */
  async stop(reason: ExitReason, timeoutMs: number): Promise<'graceful' | 'forced'> {
    const how = await this.stopInstance(reason, timeoutMs)
    this.close()
    return how
  }

  /** Marks the cell dead without waiting (its thread is gone, or after stop). */
  close(): void {
    this.state = 'stopped'
    this.controller.abort(new RuntimeError('ACTOR_STOPPED', `${this.name} is stopped`))
    for (const envelope of this.mailbox.drain()) {
      envelope.reply?.reject(new RuntimeError('ACTOR_STOPPED', `${this.name} stopped before handling the message`))
    }
    this.mailbox.releaseWaiters()
  }

  private createContext(): ActorContext<M, R> {
    const signal = this.controller.signal
    return {
      self: this.ref,
      name: this.name,
      signal,
      log: this.log,
      restartCount: this.restarts,
      stop: () => {
        this.stopRequested = true
        this.schedule()
      },
      later: <T>(answer: Promise<T>) => new Deferred<T>(answer),
    }
  }

  private schedule(): void {
    if (this.draining || this.state !== 'running') return
    if (this.mailbox.size === 0 && !this.stopRequested) return
    this.draining = true
    queueMicrotask(() => void this.drain())
  }

  private async drain(): Promise<void> {
    let handled = 0
    let finish!: () => void
    this.busy = new Promise((resolve) => (finish = resolve))
    try {
      while (this.state === 'running' && !this.stopRequested) {
        const envelope = this.mailbox.shift()
        if (envelope === undefined) break
        if (envelope.reply?.cancelled) continue
        // A synchronous receive is settled without a promise or a microtask:
        // this loop is the hottest path of every actor.
        const outcome = this.handle(envelope)
        if (outcome === false || (outcome !== true && !(await outcome))) return
        if (++handled >= messagesPerTurnMax) {
          // Let timers and I/O run; continue on the next turn.
          await new Promise<void>((resolve) => setImmediate(resolve))
          handled = 0
        }
      }
    } finally {
      this.draining = false
      finish()
    }
    if (this.state === 'running' && this.stopRequested) await this.exitNormally()
    else this.schedule()
  }

  /** true: handled; false: the instance crashed; a promise of either while an async receive runs. */
  private handle(envelope: Envelope<M, R>): boolean | Promise<boolean> {
    const behavior = this.behavior!
    const context = this.context!
    let result: R | Deferred<R> | Promise<R | Deferred<R>>
    try {
      result = behavior.receive(envelope.message, context)
    } catch (thrown) {
      return this.fail(envelope, thrown, behavior, context)
    }
    if (!isThenable(result)) {
      this.settle(envelope, result)
      return true
    }
    return (result as Promise<R | Deferred<R>>).then(
      (value) => {
        this.settle(envelope, value)
        return true
      },
      (thrown: unknown) => this.fail(envelope, thrown, behavior, context),
    )
  }

  private settle(envelope: Envelope<M, R>, result: R | Deferred<R>): void {
    this.counters.processed++
    if (result instanceof Deferred) {
      const reply = envelope.reply
      ;(result as Deferred<R>).answer.then(
        (value) => reply?.resolve(value),
        (error: unknown) => reply?.reject(toError(error)),
      )
    } else envelope.reply?.resolve(result)
  }

  private async fail(envelope: Envelope<M, R>, thrown: unknown, behavior: Behavior<M, R>, context: ActorContext<M, R>): Promise<false> {
    const error = toError(thrown)
    envelope.reply?.reject(new RuntimeError('ACTOR_FAILED', `${this.name} failed: ${error.message}`, { cause: error }))
    await this.crash(error, behavior, context)
    return false
  }

  private async crash(error: Error, behavior: Behavior<M, R>, context: ActorContext<M, R>): Promise<void> {
    this.counters.failures++
    this.lastError = error
    this.state = 'failed'
    this.log.error({ err: error }, 'actor crashed')
    this.controller.abort(error)
    if (behavior.stopping) {
      try {
        await behavior.stopping({ kind: 'error', error }, context)
      } catch (hookError) {
        this.log.warn({ err: hookError }, 'stopping hook threw after a crash')
      }
    }
    this.onExit({ kind: 'error', error })
  }

  private async exitNormally(): Promise<void> {
    await this.stopInstance({ kind: 'normal' }, Number.POSITIVE_INFINITY)
    this.onExit({ kind: 'normal' })
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/** Waits for `promise` at most `timeoutMs`; never rejects. */
export async function settleWithin(
  promise: Promise<unknown>,
  timeoutMs: number,
): Promise<'fulfilled' | 'rejected' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs))
  })
  try {
    return await Promise.race([
      promise.then(
        () => 'fulfilled' as const,
        () => 'rejected' as const,
      ),
      timeout,
    ])
  } finally {
    if (timer) clearTimeout(timer)
  }
}
