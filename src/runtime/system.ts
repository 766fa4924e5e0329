// The actor system of one process: a root supervisor (the guardian) under
// which applications spawn actors, supervisors and thread hosts.
import type { Logger } from 'pino'
import type { ActorFactory, ActorRef, ExitReason } from './actor.js'
import { ActorCell } from './actor-cell.js'
import { currentKernel } from './current-kernel.js'
import { RuntimeError } from './errors.js'
import { LocalRef } from './local-ref.js'
import { createDefaultLogger } from './logger.js'
import type { MailboxOptions } from './mailbox.js'
import type { ActorMetrics } from './metrics.js'
import {
  Supervisor,
  type ChildRuntime,
  type ChildSpecBase,
  type RestartType,
  type SupervisorOptions,
} from './supervisor.js'
import { ThreadHost, type ThreadHostOptions } from './thread-host.js'

// Children of one supervisor carry different message types; the spec erases
// them and spawn<M, R>() / child<T>() restore them for the caller.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyActorFactory = ActorFactory<any, any>

export interface ActorChildSpec extends ChildSpecBase {
  actor: AnyActorFactory
  mailbox?: MailboxOptions
}

export interface SupervisorChildSpec extends ChildSpecBase {
  supervisor: SupervisorOptions<ChildSpec>
}

/** A worker thread whose actors this host supervises (see ThreadHost). */
export interface ThreadChildSpec extends ChildSpecBase {
  thread: ThreadHostOptions
}

export type ChildSpec = ActorChildSpec | SupervisorChildSpec | ThreadChildSpec

export interface ActorSystemOptions {
  name?: string
  logger?: Logger
  /** Default timeout of ask(). */
  askTimeoutMs?: number
  /** The root supervisor: its strategy, intensity and initial children. */
  root?: SupervisorOptions<ChildSpec>
}

export interface SpawnOptions {
  /** The child id under the root supervisor; also the actor's name in logs. */
  name?: string
  restart?: RestartType
  shutdownMs?: number
  mailbox?: MailboxOptions
}

export const systemDefaults = { askTimeoutMs: 5_000 }

export class ActorSystem {
  readonly name: string
  readonly log: Logger
  readonly askTimeoutMs: number
  /** Resolves when the system ends: `shutdown` after shutdown(), `error` when the root gave up. */
  readonly terminated: Promise<ExitReason>
  readonly root: Supervisor<ChildSpec>
  private readonly cells = new Set<ActorCell<unknown, unknown>>()
  private anonymousCount = 0
  private ended = false
  private endWith!: (reason: ExitReason) => void

  private constructor(options: ActorSystemOptions) {
    this.name = options.name ?? 'troupe'
    this.log = options.logger ?? createDefaultLogger(this.name)
    this.askTimeoutMs = options.askTimeoutMs ?? systemDefaults.askTimeoutMs
    this.terminated = new Promise((resolve) => (this.endWith = resolve))
    this.root = new Supervisor<ChildSpec>('root', options.root ?? {}, this.buildChild, this.log.child({ supervisor: 'root' }), (reason) =>
      this.end(reason),
    )
  }

  static async start(options: ActorSystemOptions = {}): Promise<ActorSystem> {
    const system = new ActorSystem(options)
    await system.root.start()
    return system
  }

  /** Spawns an actor under the root supervisor. */
  async spawn<M, R = void>(factory: ActorFactory<M, R>, options: SpawnOptions = {}): Promise<ActorRef<M, R>> {
    this.assertRunning()
    const id = options.name ?? `actor-${++this.anonymousCount}`
    const spec: ActorChildSpec = { id, actor: factory, restart: options.restart ?? 'permanent' }
    if (options.shutdownMs !== undefined) spec.shutdownMs = options.shutdownMs
    if (options.mailbox !== undefined) spec.mailbox = options.mailbox
    return (await this.root.startChild(spec)) as ActorRef<M, R>
  }

  /** Starts a supervisor (with its children) under the root supervisor. */
  async supervise(id: string, options: SupervisorOptions<ChildSpec>, restart: RestartType = 'permanent'): Promise<Supervisor<ChildSpec>> {
    this.assertRunning()
    return (await this.root.startChild({ id, supervisor: options, restart })) as Supervisor<ChildSpec>
  }

  /** Starts a worker thread (under the root supervisor) on which actors can be spawned. */
  async spawnThread(id: string, options: ThreadHostOptions = {}, restart: RestartType = 'permanent'): Promise<ThreadHost> {
    this.assertRunning()
    return (await this.root.startChild({ id, thread: options, restart })) as ThreadHost
  }

  /** Stops everything in reverse start order, then resolves `terminated`. */
  async shutdown(): Promise<void> {
    if (this.ended) return
    await this.root.stop({ kind: 'shutdown' })
    for (const cell of this.cells) {
      cell.close()
      currentKernel().unregister(cell.address.id)
    }
    this.cells.clear()
    this.end({ kind: 'shutdown' })
  }

  /** Counters and mailbox depth of every live actor on this thread. */
  metrics(): ActorMetrics[] {
    return [...this.cells].map((cell) => ({
      name: cell.name,
      address: cell.address,
      mailboxDepth: cell.mailboxSize,
      ...cell.counters,
    }))
  }

  /** Creates an actor cell on this thread (used by child builders). */
  createCell<M, R>(name: string, factory: ActorFactory<M, R>, mailbox: MailboxOptions | undefined, log: Logger, onExit: (reason: ExitReason) => void): ActorCell<M, R> {
    const kernel = currentKernel()
    const cell: ActorCell<M, R> = new ActorCell<M, R>({
      name,
      address: { thread: kernel.threadId, id: kernel.allocateLocalId() },
      factory,
      mailbox,
      log,
      onExit,
      makeRef: (c) => new LocalRef(c, this.askTimeoutMs),
    })
    return cell
  }

  private readonly buildChild = (spec: ChildSpec, onExit: (reason: ExitReason) => void, log: Logger): ChildRuntime => {
    if ('thread' in spec) {
      const host = new ThreadHost(spec.id, spec.thread, log, this.askTimeoutMs, onExit)
      return {
        handle: host,
        start: () => host.start(),
        stop: (reason) => host.stop(reason),
        close: () => undefined,
      }
    }
    if ('supervisor' in spec) {
      const supervisor: Supervisor<ChildSpec> = new Supervisor<ChildSpec>(spec.id, spec.supervisor, this.buildChild, log, onExit)
      return {
        handle: supervisor,
        start: () => supervisor.start(),
        stop: async (reason) => {
          await supervisor.stop(reason)
          return 'graceful'
        },
        close: () => undefined,
      }
    }
    const cell = this.createCell(spec.id, spec.actor, spec.mailbox, log.child({ actor: spec.id }), onExit)
    const cells = this.cells as Set<ActorCell<unknown, unknown>>
    return {
      handle: cell.ref,
      start: async () => {
        cells.add(cell as ActorCell<unknown, unknown>)
        currentKernel().register(cell as ActorCell<unknown, unknown>)
        await cell.start()
      },
      stop: (reason, timeoutMs) => cell.stopInstance(reason, timeoutMs),
      close: () => {
        cell.close()
        cells.delete(cell as ActorCell<unknown, unknown>)
        currentKernel().unregister(cell.address.id)
      },
    }
  }

  private end(reason: ExitReason): void {
    if (this.ended) return
    this.ended = true
    if (reason.kind === 'error') this.log.fatal({ err: reason.error }, 'actor system failed')
    this.endWith(reason)
  }

  private assertRunning(): void {
    if (this.ended) throw new RuntimeError('SYSTEM_STOPPED', `actor system '${this.name}' is stopped`)
  }
}
