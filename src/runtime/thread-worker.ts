// The entry point of every worker thread a ThreadHost starts. It installs the
// thread's kernel, attaches the rings its host prepared, and creates, starts
// and stops actors when the host's commands arrive. Supervision decisions are
// taken by the host on the main thread; this side only reports exits.
import { parentPort } from 'node:worker_threads'
import { pino } from 'pino'
import type { ActorFactory, ExitReason } from './actor.js'
import { ActorCell } from './actor-cell.js'
import { installKernel } from './current-kernel.js'
import { Doorbell } from './doorbell.js'
import type { KernelCommand } from './envelope.js'
import { RuntimeError } from './errors.js'
import { LocalRef } from './local-ref.js'
import type { MeshControl } from './thread-mesh.js'
import { ThreadKernel, deserializeExit, type PeerLinkBuffers } from './thread-kernel.js'

export interface WorkerBoot {
  slot: number
  name: string
  doorbell: SharedArrayBuffer
  peers: PeerLinkBuffers[]
  logLevel: string
  askTimeoutMs: number
  /** The main thread's message shapes (ThreadKernel.useMessageShapes): every thread's codec has the same table. */
  shapes: string[][]
}

export type WorkerControl = MeshControl | { type: 'boot'; boot: WorkerBoot } | { type: 'shutdown' }

const port = parentPort!
// The host sends the boot data as the first message: the rings to the other
// threads can only be made once this worker exists.
const boot = await new Promise<WorkerBoot>((resolve) => {
  port.once('message', (control: WorkerControl) => {
    if (control.type === 'boot') resolve(control.boot)
  })
})
const log = pino({ name: boot.name, level: boot.logLevel }, pino.destination({ dest: 2, sync: true })).child({
  thread: boot.slot,
})
const kernel = new ThreadKernel(boot.slot, Doorbell.attach(boot.doorbell), boot.shapes)
installKernel(kernel)

const cells = new Map<number, ActorCell<unknown, unknown>>()

function cellOf(id: number): ActorCell<unknown, unknown> {
  const cell = cells.get(id)
  if (!cell) throw new RuntimeError('ACTOR_STOPPED', `no actor ${id} on thread ${boot.slot}`)
  return cell
}

async function loadFactory(command: Extract<KernelCommand, { op: 'create' }>): Promise<ActorFactory<unknown, unknown>> {
  const module = (await import(command.definition.module)) as Record<string, unknown>
  const name = command.definition.export ?? 'default'
  const make = module[name]
  if (typeof make !== 'function') {
    throw new RuntimeError('ACTOR_START_FAILED', `${command.definition.module} has no function export '${name}'`)
  }
  return (make as (args: unknown) => ActorFactory<unknown, unknown>)(command.definition.args)
}

kernel.onCommand(async (command) => {
  switch (command.op) {
    case 'create': {
      if (cells.has(command.id)) return null
      const factory = await loadFactory(command)
      const supervisorThread = command.supervisorThread
      const id = command.id
      const cell = new ActorCell<unknown, unknown>({
        name: command.name,
        address: { thread: boot.slot, id },
        factory,
        mailbox: command.mailbox,
        log: log.child({ actor: command.name }),
        onExit: (reason: ExitReason) => kernel.reportExit(supervisorThread, id, reason),
        makeRef: (c) => new LocalRef(c, boot.askTimeoutMs),
      })
      cells.set(id, cell)
      kernel.register(cell)
      return null
    }
    case 'start':
      await cellOf(command.id).start()
      return null
    case 'stop':
      return cellOf(command.id).stopInstance(deserializeExit(command.reason), command.timeoutMs)
    case 'metrics':
      return [...cells.values()].map((cell) => ({
        name: cell.name,
        address: cell.address,
        mailboxDepth: cell.mailboxSize,
        ...cell.counters,
      }))
    case 'close': {
      const cell = cells.get(command.id)
      cell?.close()
      cells.delete(command.id)
      kernel.unregister(command.id)
      return null
    }
  }
})

port.on('message', (control: WorkerControl) => {
  switch (control.type) {
    case 'attach':
      kernel.attachPeer(control.peer)
      break
    case 'detach':
      kernel.detachPeer(control.thread, undefined)
      break
    case 'boot':
      break
    case 'shutdown':
      for (const cell of cells.values()) cell.close()
      kernel.close()
      port.close()
      break
  }
})

for (const peer of boot.peers) kernel.attachPeer(peer)
port.postMessage({ type: 'ready' })
