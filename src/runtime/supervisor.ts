// Supervision with Erlang/OTP semantics.
//
// Strategies: 'one-for-one' restarts the child that exited; 'one-for-all'
// stops every other child (reverse start order) and restarts them all;
// 'rest-for-one' does so for the exited child and the ones started after it.
// Restart types: 'permanent' always restarts, 'transient' only after an error,
// 'temporary' never. Intensity: more than `maxRestarts` restarts within
// `withinMs` makes the supervisor stop all children in reverse start order
// and fail to its parent with RESTART_INTENSITY. Each restart waits an
// exponential backoff with jitter, reset once the child has run `resetAfterMs`.
import type { Logger } from 'pino'
import type { ActorRef, ExitReason } from './actor.js'
import { RuntimeError, toError } from './errors.js'

export type RestartType = 'permanent' | 'transient' | 'temporary'
export type SupervisorStrategy = 'one-for-one' | 'one-for-all' | 'rest-for-one'

export interface BackoffOptions {
  /** Delay before the first restart of a child. */
  initialMs: number
  /** Largest delay between restarts. */
  maxMs: number
  multiplier: number
  /** Fraction of the delay randomised either way: 0.2 gives ±20%. */
  jitter: number
  /** A child that ran at least this long before failing starts over at initialMs. */
  resetAfterMs: number
}

export const backoffDefaults: BackoffOptions = {
  initialMs: 10,
  maxMs: 10_000,
  multiplier: 2,
  jitter: 0.2,
  resetAfterMs: 30_000,
}

export const supervisorDefaults = {
  strategy: 'one-for-one' as SupervisorStrategy,
  maxRestarts: 3,
  withinMs: 5_000,
  shutdownMs: 5_000,
}

export type SupervisorEvent =
  | { type: 'child-started'; id: string }
  | { type: 'child-exited'; id: string; reason: ExitReason }
  | { type: 'child-stopped'; id: string; how: 'graceful' | 'forced' }
  | { type: 'restart-scheduled'; id: string; delayMs: number; attempt: number }
  | { type: 'intensity-exceeded'; restarts: number; withinMs: number }

/** The running side of one child, whatever it is (local actor, remote actor, supervisor). */
export interface ChildRuntime {
  /** What callers get back: an ActorRef for actors, the Supervisor for supervisors. */
  readonly handle: unknown
  start(): Promise<void>
  /** Ends the running instance but keeps the child restartable. */
  stop(reason: ExitReason, timeoutMs: number): Promise<'graceful' | 'forced'>
  /** Ends the child for good. */
  close(): void
}

export interface ChildSpecBase {
  /** Unique among the supervisor's children. */
  id: string
  restart?: RestartType
  /** How long a graceful stop may take before the child is forced down. */
  shutdownMs?: number
}

/**
 * Builds the runtime of a child spec. `S` is the spec type this supervisor
 * accepts: the actor system accepts local actors and supervisors; a thread
 * host accepts actors defined in modules, run on its worker.
 */
export type ChildBuilder<S extends ChildSpecBase> = (
  spec: S,
  onExit: (reason: ExitReason) => void,
  log: Logger,
) => ChildRuntime

export interface SupervisorOptions<S extends ChildSpecBase> {
  strategy?: SupervisorStrategy
  maxRestarts?: number
  withinMs?: number
  backoff?: Partial<BackoffOptions>
  children?: S[]
  /** Source of jitter; injectable so tests can fix it. */
  random?: () => number
  onEvent?: (event: SupervisorEvent) => void
}

interface Child<S extends ChildSpecBase> {
  spec: S
  runtime: ChildRuntime
  running: boolean
  startedAt: number
  consecutiveFailures: number
}

export class Supervisor<S extends ChildSpecBase = ChildSpecBase> {
  readonly name: string
  readonly strategy: SupervisorStrategy
  private readonly maxRestarts: number
  private readonly withinMs: number
  private readonly backoff: BackoffOptions
  private readonly random: () => number
  private readonly onEvent: ((event: SupervisorEvent) => void) | undefined
  private readonly children: Child<S>[] = []
  private readonly initialSpecs: S[]
  private restartTimes: number[] = []
  private serial: Promise<unknown> = Promise.resolve()
  private stopping = false
  private readonly pendingTimers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>()

  constructor(
    name: string,
    options: SupervisorOptions<S>,
    private readonly build: ChildBuilder<S>,
    private readonly log: Logger,
    /** Told when this supervisor gives up (restart intensity exceeded). */
    private readonly onFail: (reason: ExitReason) => void,
  ) {
    this.name = name
    this.strategy = options.strategy ?? supervisorDefaults.strategy
    this.maxRestarts = options.maxRestarts ?? supervisorDefaults.maxRestarts
    this.withinMs = options.withinMs ?? supervisorDefaults.withinMs
    this.backoff = { ...backoffDefaults, ...options.backoff }
    this.random = options.random ?? Math.random
    this.onEvent = options.onEvent
    this.initialSpecs = [...(options.children ?? [])]
    assertUniqueIds(this.initialSpecs)
  }

  /** Starts the initial children in order; if one fails, stops the started ones and throws. */
  async start(): Promise<void> {
    this.stopping = false
    this.restartTimes = []
    if (this.children.length === 0) {
      for (const spec of this.initialSpecs) this.children.push(this.createChild(spec))
    }
    await this.exclusive(async () => {
      // A restarted supervisor does not bring back temporary children that already ran.
      for (const child of this.children.filter((c) => c.spec.restart === 'temporary' && c.startedAt > 0)) {
        child.runtime.close()
        this.remove(child)
      }
      for (const child of this.children) {
        try {
          await this.startOne(child)
        } catch (error) {
          await this.stopChildren(this.children, { kind: 'shutdown' })
          throw error
        }
      }
    })
  }

  /** Stops every child in reverse start order (each within its shutdown timeout). */
  async stop(reason: ExitReason = { kind: 'shutdown' }): Promise<void> {
    this.stopping = true
    for (const pending of this.pendingTimers) {
      clearTimeout(pending.timer)
      pending.resolve()
    }
    this.pendingTimers.clear()
    await this.exclusive(() => this.stopChildren(this.children, reason))
  }

  /** Adds and starts a child. Resolves with its handle (an ActorRef or a Supervisor). */
  async startChild(spec: S): Promise<unknown> {
    return this.exclusive(async () => {
      if (this.children.some((c) => c.spec.id === spec.id)) {
        throw new RuntimeError('DUPLICATE_CHILD', `${this.name} already has a child '${spec.id}'`)
      }
      const child = this.createChild(spec)
      await this.startOne(child)
      this.children.push(child)
      return child.runtime.handle
    })
  }

  /** Stops a child; it stays in the list (restartChild starts it again) unless temporary. */
  async terminateChild(id: string): Promise<void> {
    await this.exclusive(async () => {
      const child = this.find(id)
      await this.stopChildren([child], { kind: 'shutdown' })
      if (child.spec.restart === 'temporary') this.remove(child)
    })
  }

  async restartChild(id: string): Promise<unknown> {
    return this.exclusive(async () => {
      const child = this.find(id)
      if (child.running) throw new RuntimeError('CHILD_RUNNING', `${this.name}: child '${id}' is running`)
      await this.startOne(child)
      return child.runtime.handle
    })
  }

  async deleteChild(id: string): Promise<void> {
    await this.exclusive(async () => {
      const child = this.find(id)
      if (child.running) throw new RuntimeError('CHILD_RUNNING', `${this.name}: terminate child '${id}' first`)
      child.runtime.close()
      this.remove(child)
    })
  }

  /** The children in start order with whether each runs. */
  whichChildren(): { id: string; running: boolean; restart: RestartType }[] {
    return this.children.map((c) => ({ id: c.spec.id, running: c.running, restart: c.spec.restart ?? 'permanent' }))
  }

  /** The handle (ActorRef or Supervisor) of a child. */
  child<T = ActorRef<unknown, unknown>>(id: string): T {
    return this.find(id).runtime.handle as T
  }

  private createChild(spec: S): Child<S> {
    const child: Child<S> = {
      spec,
      runtime: undefined as unknown as ChildRuntime,
      running: false,
      startedAt: 0,
      consecutiveFailures: 0,
    }
    const log = this.log.child({ child: spec.id })
    child.runtime = this.build(spec, (reason) => this.onChildExit(child, reason), log)
    return child
  }

  private async startOne(child: Child<S>): Promise<void> {
    await child.runtime.start()
    child.running = true
    child.startedAt = Date.now()
    this.emit({ type: 'child-started', id: child.spec.id })
  }

  private async stopChildren(children: Child<S>[], reason: ExitReason): Promise<void> {
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]!
      if (!child.running) continue
      child.running = false
      const how = await child.runtime.stop(reason, child.spec.shutdownMs ?? supervisorDefaults.shutdownMs)
      this.emit({ type: 'child-stopped', id: child.spec.id, how })
    }
  }

  private onChildExit(child: Child<S>, reason: ExitReason): void {
    void this.exclusive(() => this.handleExit(child, reason)).catch((error) => {
      this.log.error({ err: error }, 'supervisor failed handling a child exit')
    })
  }

  private async handleExit(child: Child<S>, reason: ExitReason): Promise<void> {
    if (this.stopping || !child.running) return
    this.emit({ type: 'child-exited', id: child.spec.id, reason })
    child.running = false
    const restart = child.spec.restart ?? 'permanent'
    const wanted = restart === 'permanent' || (restart === 'transient' && reason.kind === 'error')
    if (!wanted) {
      await child.runtime.stop(reason, child.spec.shutdownMs ?? supervisorDefaults.shutdownMs)
      if (restart === 'temporary') {
        child.runtime.close()
        this.remove(child)
      }
      return
    }
    if (Date.now() - child.startedAt >= this.backoff.resetAfterMs) child.consecutiveFailures = 0
    await this.restartFrom(child, reason)
  }

  /** Applies the strategy to an exited child until it runs again or intensity is exceeded. */
  private async restartFrom(failed: Child<S>, reason: ExitReason): Promise<void> {
    const index = this.children.indexOf(failed)
    const group =
      this.strategy === 'one-for-one'
        ? [failed]
        : this.strategy === 'one-for-all'
          ? [...this.children]
          : this.children.slice(index)
    await failed.runtime.stop(reason, failed.spec.shutdownMs ?? supervisorDefaults.shutdownMs)
    await this.stopChildren(group, { kind: 'shutdown' })
    for (;;) {
      if (this.stopping) return
      if (!this.recordRestart()) {
        await this.giveUp()
        return
      }
      failed.consecutiveFailures++
      const delayMs = this.backoffDelay(failed.consecutiveFailures)
      this.emit({ type: 'restart-scheduled', id: failed.spec.id, delayMs, attempt: failed.consecutiveFailures })
      await this.sleep(delayMs)
      if (this.stopping) return
      try {
        for (const child of group) {
          if (child.spec.restart === 'temporary' && child !== failed) {
            child.runtime.close()
            this.remove(child)
            continue
          }
          if (!child.running && this.children.includes(child)) await this.startOne(child)
        }
        return
      } catch (error) {
        this.log.warn({ err: toError(error), child: failed.spec.id }, 'restart failed')
        await this.stopChildren(group, { kind: 'shutdown' })
      }
    }
  }

  /** Notes one restart; false when that exceeds the intensity. */
  private recordRestart(): boolean {
    const now = Date.now()
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.withinMs)
    this.restartTimes.push(now)
    return this.restartTimes.length <= this.maxRestarts
  }

  private async giveUp(): Promise<void> {
    this.emit({ type: 'intensity-exceeded', restarts: this.restartTimes.length, withinMs: this.withinMs })
    this.log.error({ maxRestarts: this.maxRestarts, withinMs: this.withinMs }, 'restart intensity exceeded')
    this.stopping = true
    await this.stopChildren(this.children, { kind: 'shutdown' })
    const error = new RuntimeError(
      'RESTART_INTENSITY',
      `${this.name}: more than ${this.maxRestarts} restarts within ${this.withinMs} ms`,
    )
    this.onFail({ kind: 'error', error })
  }

  /** The delay before restart `attempt` (1-based) of a child. */
  backoffDelay(attempt: number): number {
    const { initialMs, maxMs, multiplier, jitter } = this.backoff
    const base = Math.min(maxMs, initialMs * multiplier ** (attempt - 1))
    const spread = base * jitter * (2 * this.random() - 1)
    return Math.max(0, Math.round(base + spread))
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const pending = {
        timer: setTimeout(() => {
          this.pendingTimers.delete(pending)
          resolve()
        }, ms),
        resolve,
      }
      this.pendingTimers.add(pending)
    })
  }

  private find(id: string): Child<S> {
    const child = this.children.find((c) => c.spec.id === id)
    if (!child) throw new RuntimeError('CHILD_NOT_FOUND', `${this.name} has no child '${id}'`)
    return child
  }

  private remove(child: Child<S>): void {
    const index = this.children.indexOf(child)
    if (index >= 0) this.children.splice(index, 1)
  }

  private emit(event: SupervisorEvent): void {
    this.log.debug({ event }, 'supervisor event')
    this.onEvent?.(event)
  }

  /** Runs decisions one at a time, as an OTP supervisor process would. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work, work)
    this.serial = next.catch(() => undefined)
    return next
  }
}

function assertUniqueIds(specs: ChildSpecBase[]): void {
  const seen = new Set<string>()
  for (const spec of specs) {
    if (seen.has(spec.id)) throw new RuntimeError('DUPLICATE_CHILD', `duplicate child id '${spec.id}'`)
    seen.add(spec.id)
  }
}
