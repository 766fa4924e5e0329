// A ThreadHost owns one worker thread and supervises the actors that live on
// it. It is itself a child in the supervision tree: when its worker crashes or
// is terminated, every actor on it is gone, so the host fails to its own
// supervisor, which restarts it — a new worker, then its children, with the
// same addresses, so refs held elsewhere keep working.
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { ActorRef, ExitReason } from './actor.js'
import { currentKernel } from './current-kernel.js'
import { Doorbell } from './doorbell.js'
import { serializeExit, type RemoteActorDefinition } from './envelope.js'
import { RuntimeError } from './errors.js'
import type { MailboxOptions } from './mailbox.js'
import type { ActorMetrics } from './metrics.js'
import { RemoteRef } from './remote-ref.js'
import { Supervisor, type ChildRuntime, type ChildSpecBase, type SupervisorOptions } from './supervisor.js'
import { deserializeExit } from './thread-kernel.js'
import { allocateSlot, joinMesh, leaveMesh } from './thread-mesh.js'
import type { WorkerBoot, WorkerControl } from './thread-worker.js'

/** An actor to run on a host's worker: its code is a module the worker imports. */
export interface RemoteChildSpec extends ChildSpecBase {
  definition: RemoteActorDefinition
  mailbox?: MailboxOptions
}

export interface ThreadHostOptions extends SupervisorOptions<RemoteChildSpec> {
  /** Thread name in logs. */
  name?: string
  /** Passed to the Worker (heap limits). */
  resourceLimits?: ConstructorParameters<typeof Worker>[1] extends infer O ? (O extends { resourceLimits?: infer L } ? L : never) : never
  /** How long the worker may take to boot. */
  bootTimeoutMs?: number
  /** Extra time a command may take beyond the child's own timeout before the host gives up on it. */
  commandSlackMs?: number
  /** Bytes of each ring between this thread and every other (a power of two). */
  ringCapacityBytes?: number
}

export const threadHostDefaults = { bootTimeoutMs: 10_000, commandSlackMs: 2_000, exitTimeoutMs: 2_000 }

const workerEntry = new URL('./thread-worker.js', import.meta.url)

export class ThreadHost {
  readonly slot = allocateSlot()
  readonly name: string
  readonly supervisor: Supervisor<RemoteChildSpec>
  private worker: Worker | undefined
  private incarnation = 0
  private nextActorId = 1
  private readonly runtimes = new Map<number, RemoteChild>()
  private stopping = false

  constructor(
    id: string,
    private readonly options: ThreadHostOptions,
    private readonly log: Logger,
    private readonly askTimeoutMs: number,
    private readonly onFail: (reason: ExitReason) => void,
  ) {
    this.name = options.name ?? id
    this.supervisor = new Supervisor<RemoteChildSpec>(this.name, options, this.buildChild, log, onFail)
    currentKernel().onExit(this.slot, (_thread, actorId, reason) => {
      this.runtimes.get(actorId)?.exited(deserializeExit(reason))
    })
  }

  get threadId(): number | undefined {
    return this.worker?.threadId
  }

  /** Spawns an actor on this host's thread (a dynamic child of the host). */
  async spawn<M, R = void>(spec: RemoteChildSpec): Promise<ActorRef<M, R>> {
    return (await this.supervisor.startChild(spec)) as ActorRef<M, R>
  }

  /** Counters and mailbox depth of every actor on this host's thread. */
  async metrics(): Promise<ActorMetrics[]> {
    if (!this.worker) return []
    return (await currentKernel().command(this.slot, { op: 'metrics' }, this.commandTimeoutMs(0))) as ActorMetrics[]
  }

  async start(): Promise<void> {
    this.stopping = false
    await this.startWorker()
    await this.supervisor.start()
  }

  async stop(reason: ExitReason): Promise<'graceful' | 'forced'> {
    this.stopping = true
    await this.supervisor.stop(reason)
    return this.stopWorker()
  }

  /** Kills the worker abruptly, as a crash would (for tests and chaos drills). */
  async terminateWorker(): Promise<void> {
    await this.worker?.terminate()
  }

  private async startWorker(): Promise<void> {
    this.incarnation++
    const doorbell = Doorbell.create()
    const worker = new Worker(workerEntry, {
      name: this.name,
      ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}),
    })
    this.worker = worker
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RuntimeError('ACTOR_START_FAILED', `thread ${this.name} did not boot in time`)),
        this.options.bootTimeoutMs ?? threadHostDefaults.bootTimeoutMs,
      )
      worker.once('message', () => {
        clearTimeout(timer)
        resolve()
      })
      worker.once('error', (error) => {
        clearTimeout(timer)
        reject(new RuntimeError('ACTOR_START_FAILED', `thread ${this.name} failed to boot: ${error.message}`, { cause: error }))
      })
    })
    worker.on('error', (error) => this.log.error({ err: error }, 'worker thread crashed'))
    worker.once('exit', (code) => this.workerExited(worker, code))
    const peers = joinMesh(this.slot, doorbell, worker, this.options.ringCapacityBytes)
    const boot: WorkerBoot = {
      slot: this.slot,
      name: this.name,
      doorbell: doorbell.buffer,
      peers,
      logLevel: this.log.level,
      askTimeoutMs: this.askTimeoutMs,
      shapes: currentKernel().messageShapes,
    }
    worker.postMessage({ type: 'boot', boot } satisfies WorkerControl)
    try {
      await ready
    } catch (error) {
      await this.stopWorker()
      throw error
    }
  }

  private workerExited(worker: Worker, code: number): void {
    if (this.worker !== worker) return // an exit we asked for
    this.worker = undefined
    const error = new RuntimeError('THREAD_EXITED', `thread ${this.name} exited with code ${code}`)
    leaveMesh(this.slot, error)
    if (this.stopping) return
    this.log.error({ code }, 'worker thread exited: failing its actors to the supervisor')
    this.onFail({ kind: 'error', error })
  }

  private async stopWorker(): Promise<'graceful' | 'forced'> {
    const worker = this.worker
    if (!worker) return 'graceful'
    this.worker = undefined
    leaveMesh(this.slot)
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    worker.postMessage({ type: 'shutdown' } satisfies WorkerControl)
    let forced = false
    const timer = setTimeout(() => {
      forced = true
      void worker.terminate()
    }, threadHostDefaults.exitTimeoutMs)
    await exited
    clearTimeout(timer)
    return forced ? 'forced' : 'graceful'
  }

  private readonly buildChild = (spec: RemoteChildSpec, onExit: (reason: ExitReason) => void): ChildRuntime => {
    const child = new RemoteChild(this, spec, this.nextActorId++, onExit)
    this.runtimes.set(child.id, child)
    return child
  }

  /** @internal */
  commandTimeoutMs(childTimeoutMs: number): number {
    return childTimeoutMs + (this.options.commandSlackMs ?? threadHostDefaults.commandSlackMs)
  }

  /** @internal */
  get currentIncarnation(): number {
    return this.incarnation
  }

  /** @internal */
  makeRef<M, R>(id: number, name: string): ActorRef<M, R> {
    return new RemoteRef<M, R>(currentKernel(), { thread: this.slot, id }, name, this.askTimeoutMs)
  }

  /** @internal */
  forget(id: number): void {
    this.runtimes.delete(id)
  }
}

/** The host-side runtime of one actor on the host's worker. */
class RemoteChild implements ChildRuntime {
  readonly handle: ActorRef<unknown, unknown>
  private createdIn = 0

  constructor(
    private readonly host: ThreadHost,
    private readonly spec: RemoteChildSpec,
    readonly id: number,
    private readonly onExit: (reason: ExitReason) => void,
  ) {
    this.handle = host.makeRef(id, spec.id)
  }

  async start(): Promise<void> {
    const kernel = currentKernel()
    const timeoutMs = this.host.commandTimeoutMs(0)
    try {
      if (this.createdIn !== this.host.currentIncarnation) {
        const mailbox = this.spec.mailbox
        await kernel.command(
          this.host.slot,
          {
            op: 'create',
            id: this.id,
            name: this.spec.id,
            definition: this.spec.definition,
            supervisorThread: 0,
            ...(mailbox ? { mailbox } : {}),
          },
          timeoutMs + 10_000, // the first create imports the module
        )
        this.createdIn = this.host.currentIncarnation
      }
      await kernel.command(this.host.slot, { op: 'start', id: this.id }, timeoutMs + 10_000)
    } catch (error) {
      if (error instanceof RuntimeError && error.code === 'ACTOR_START_FAILED') throw error
      throw new RuntimeError('ACTOR_START_FAILED', `${this.spec.id} failed to start on ${this.host.name}: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }

  async stop(reason: ExitReason, timeoutMs: number): Promise<'graceful' | 'forced'> {
    if (this.createdIn !== this.host.currentIncarnation) return 'graceful'
    try {
      const how = await currentKernel().command(
        this.host.slot,
        { op: 'stop', id: this.id, reason: serializeExit(reason), timeoutMs },
        this.host.commandTimeoutMs(timeoutMs),
      )
      return how === 'forced' ? 'forced' : 'graceful'
    } catch {
      // The worker is gone or stuck: the actor is gone with it either way.
      return 'forced'
    }
  }

  close(): void {
    this.host.forget(this.id)
    if (this.createdIn !== this.host.currentIncarnation) return
    currentKernel()
      .command(this.host.slot, { op: 'close', id: this.id }, this.host.commandTimeoutMs(0))
      .catch(() => undefined)
  }

  exited(reason: ExitReason): void {
    this.onExit(reason)
  }
}
