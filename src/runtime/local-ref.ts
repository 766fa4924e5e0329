// An ActorRef to an actor on this thread.
import type { ActorAddress, ActorRef, AskOptions, SendOptions } from './actor.js'
import type { ActorCell, Reply } from './actor-cell.js'
import { RuntimeError } from './errors.js'

export class LocalRef<M, R> implements ActorRef<M, R> {
  constructor(
    private readonly cell: ActorCell<M, R>,
    private readonly askTimeoutMs: number,
  ) {}

  get name(): string {
    return this.cell.name
  }

  get address(): ActorAddress {
    return this.cell.address
  }

  tell(message: M): boolean {
    return this.cell.enqueue({ message })
  }

  async send(message: M, options: SendOptions = {}): Promise<void> {
    for (;;) {
      options.signal?.throwIfAborted()
      if (this.cell.isStopped) throw new RuntimeError('ACTOR_STOPPED', `${this.cell.name} is stopped`)
      if (this.cell.enqueue({ message })) return
      await raceAbort(this.cell.waitForSpace(), options.signal)
    }
  }

  ask(message: M, options: AskOptions = {}): Promise<R> {
    return askVia((reply) => this.cell.enqueue({ message, reply }), this.cell.name, options, this.askTimeoutMs)
  }
}

/**
 * The shared mechanics of an ask: a reply slot with a timeout and an abort
 * signal, handed to `enqueue`. Used for local and remote targets alike.
 */
export function askVia<R>(
  enqueue: (reply: Reply<R>) => boolean,
  targetName: string,
  options: AskOptions,
  defaultTimeoutMs: number,
): Promise<R> {
  const { signal } = options
  if (signal?.aborted) return Promise.reject(abortError(signal))
  return new Promise<R>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    // Timeouts and aborts go through reply.reject, so whoever wrapped it (the
    // thread kernel tracks remote asks) hears about them too.
    const onAbort = () => reply.reject(abortError(signal!))
    const settle = (finish: () => void) => {
      if (reply.cancelled) return
      reply.cancelled = true
      if (timer) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      finish()
    }
    const reply: Reply<R> = {
      resolve: (value) => settle(() => resolve(value)),
      reject: (error) => settle(() => reject(error)),
    }
    if (!enqueue(reply)) {
      reject(new RuntimeError('MAILBOX_FULL', `${targetName}: mailbox full or actor stopped`))
      return
    }
    reply.cancelled = false
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(
        () => reply.reject(new RuntimeError('ASK_TIMEOUT', `${targetName} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      )
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function abortError(signal: AbortSignal): RuntimeError {
  return new RuntimeError('ABORTED', 'the operation was aborted', { cause: signal.reason })
}

async function raceAbort(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise
  signal.throwIfAborted()
  let onAbort!: () => void
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
