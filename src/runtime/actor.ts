// The public shape of an actor: its behaviour, its context and its reference.
import type { Logger } from 'pino'

/** Why an actor instance ended. Supervisors restart on these per restart type. */
export type ExitReason =
  | { kind: 'normal' } // the actor called ctx.stop()
  | { kind: 'shutdown' } // its supervisor or the system stopped it
  | { kind: 'error'; error: Error } // it threw, or its thread died

/** Where an actor lives: the thread (0 = main) and its id there. Serialisable. */
export interface ActorAddress {
  thread: number
  id: number
}

export interface AskOptions {
  /** Rejects with ASK_TIMEOUT after this long. Default: the system's askTimeoutMs. */
  timeoutMs?: number
  /** Rejects with ABORTED when it fires; a message not yet processed is then skipped. */
  signal?: AbortSignal
}

export interface SendOptions {
  signal?: AbortSignal
}

/**
 * A handle to an actor that works the same wherever the actor lives. It stays
 * valid across restarts of the actor (the supervisor swaps the instance behind
 * it) and becomes dead only when the actor is stopped for good.
 */
export interface ActorRef<M, R = void> {
  readonly name: string
  readonly address: ActorAddress
  /** Queues a message. `false` means it was not queued (mailbox full or actor stopped): back off. */
  tell(message: M): boolean
  /** Queues a message, waiting for room when the mailbox is full (backpressure). */
  send(message: M, options?: SendOptions): Promise<void>
  /** Queues a message and resolves with what `receive` returned for it. */
  ask(message: M, options?: AskOptions): Promise<R>
}

export interface ActorContext<M, R = void> {
  readonly self: ActorRef<M, R>
  readonly name: string
  /** Fires when this instance is being stopped (shutdown, crash, restart). */
  readonly signal: AbortSignal
  readonly log: Logger
  /** How many times this actor has been restarted so far (0 for the first instance). */
  readonly restartCount: number
  /** Stops this actor normally after the current message (exit reason 'normal'). */
  stop(): void
  /**
   * Answers the current message later, without holding the mailbox: return
   * `ctx.later(promise)` from `receive` and the next message is handled at
   * once while the asker waits for `promise`. A rejection fails only that
   * ask, never the actor. For actors that pipeline work (the WAL writer
   * accepts many appends while one fsync runs).
   */
  later<T>(answer: Promise<T>): Deferred<T>
}

/** The marker `ctx.later()` returns; see ActorContext.later. */
export class Deferred<T> {
  constructor(readonly answer: Promise<T>) {}
}

/**
 * What an actor does. Messages are handled one at a time, in arrival order; a
 * `receive` that returns a promise holds the mailbox until it settles. What it
 * returns is the answer to an `ask`. A throw crashes the instance: the asker
 * gets ACTOR_FAILED and the supervisor decides what happens next. Other actors
 * are never affected.
 *
 * Lifecycle, in order: factory → `restarting` (only when replacing a crashed
 * instance) → `started` → messages → `stopping` (always, whatever the reason;
 * bounded by the child's shutdown timeout).
 */
export interface Behavior<M, R = void> {
  receive(message: M, ctx: ActorContext<M, R>): R | Deferred<R> | Promise<R | Deferred<R>>
  started?(ctx: ActorContext<M, R>): void | Promise<void>
  restarting?(previousError: Error | undefined, ctx: ActorContext<M, R>): void | Promise<void>
  stopping?(reason: ExitReason, ctx: ActorContext<M, R>): void | Promise<void>
}

export type ActorFactory<M, R = void> = (ctx: ActorContext<M, R>) => Behavior<M, R> | Promise<Behavior<M, R>>
