// connect() and the client it returns: queues, KV, the cluster map and the
// consumer helper, all over one connection per node (see README.md).
import { CallExecutor } from './call-executor.js'
import { Cancellation } from './cancellation.js'
import { resolveClientOptions, type ConnectOptions, type ResolvedClientOptions } from './client-options.js'
import { TroupeClientError } from './client-error.js'
import type { ClusterMap } from './client-types.js'
import { ConnectionPool } from './connection-pool.js'
import { KvOperations } from './kv-operations.js'
import { QueueConsumer, type ConsumeOptions, type Consumer, type MessageHandler } from './queue-consumer.js'
import { QueueOperations } from './queue-operations.js'
import { Router } from './router.js'
import { sleep, retryDelayMs } from './retry-backoff.js'

export class TroupeClient {
  readonly queues: QueueOperations
  readonly kv: KvOperations
  readonly #options: ResolvedClientOptions
  readonly #pool: ConnectionPool
  readonly #router: Router
  readonly #executor: CallExecutor
  readonly #consumers = new Set<QueueConsumer>()
  #closed = false

  /** Use connect(): a client is usable only once it holds a cluster map. */
  private constructor(options: ResolvedClientOptions) {
    this.#options = options
    this.#pool = new ConnectionPool(options, (address, reason) => {
      options.logger?.debug({ address, code: reason.code }, 'connection lost')
      this.#router.refreshSoon()
    })
    this.#router = new Router(this.#pool, options.seeds, options.logger)
    this.#executor = new CallExecutor(options, this.#pool, this.#router)
    this.queues = new QueueOperations(this.#executor, this.#router, options.autoDedupId)
    this.kv = new KvOperations(this.#executor, this.#router)
  }

  /** @internal the body of connect(). */
  static async connect(options: ConnectOptions): Promise<TroupeClient> {
    const client = new TroupeClient(resolveClientOptions(options))
    await client.#fetchFirstMap()
    return client
  }

  /** The cluster map as a node sees it now (the client's routing takes it too). */
  async cluster(): Promise<ClusterMap> {
    if (this.#closed) throw new TroupeClientError('CLOSED', 'the client is closed')
    return this.#router.fetch()
  }

  /**
   * Removes node `id` from the cluster for good (through any node; see the
   * node's `removeMember`): to replace a lost machine, remove it, then join
   * a new node with a new id. Asked again, it succeeds (it is done already).
   * INVALID_ARGUMENT: not a member, or the only voting member.
   */
  async removeNode(id: number): Promise<void> {
    if (this.#closed) throw new TroupeClientError('CLOSED', 'the client is closed')
    await this.#executor.run({ op: 'cluster.remove', args: { node: id }, route: 'any', idempotent: true })
    this.#router.refreshSoon()
  }

  /** Receives and handles messages until stopped; see ConsumeOptions for the behaviour. */
  consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Consumer {
    if (this.#closed) throw new TroupeClientError('CLOSED', 'the client is closed')
    const consumer = new QueueConsumer(this.queues, queue, handler, options, this.#options.logger)
    this.#consumers.add(consumer)
    consumer.done.then(
      () => this.#consumers.delete(consumer),
      () => this.#consumers.delete(consumer),
    )
    return consumer
  }

  /** Stops the consumers (gracefully, within their stop timeout), then closes every connection; pending calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return
    await Promise.allSettled([...this.#consumers].map((consumer) => consumer.stop()))
    this.#closed = true
    this.#executor.close()
    this.#pool.closeAll()
  }

  /** connect() retries the seeds within the deadline, so a cluster that is still starting is waited for. */
  async #fetchFirstMap(): Promise<void> {
    const deadlineAt = Date.now() + this.#options.deadlineMs
    let lastError: unknown
    for (let attempt = 0; ; attempt++) {
      const limit = Cancellation.after(Math.max(1, deadlineAt - Date.now()), () => new TroupeClientError('CONNECTION_FAILED', 'connect() ran out of time'))
      try {
        await this.#router.fetch(limit.cancellation)
        return
      } catch (error) {
        lastError = error
        if (error instanceof TroupeClientError && (error.code === 'UNAUTHORIZED' || error.code === 'INVALID_ARGUMENT')) {
          this.#pool.closeAll()
          throw error
        }
      } finally {
        limit.dispose()
      }
      const delayMs = retryDelayMs(attempt, { initialMs: this.#options.retryInitialMs, maxMs: this.#options.retryMaxMs })
      if (Date.now() + delayMs >= deadlineAt) break
      await sleep(delayMs)
    }
    this.#pool.closeAll()
    const detail = lastError instanceof Error ? `: ${lastError.message}` : ''
    throw new TroupeClientError('CONNECTION_FAILED', `could not get the cluster map from ${this.#options.seeds.join(', ')} within ${this.#options.deadlineMs} ms${detail}`, {
      cause: lastError,
    })
  }
}

/** Connects to a Troupe cluster through any of `options.nodes` and learns the rest of it. */
export function connect(options: ConnectOptions): Promise<TroupeClient> {
  return TroupeClient.connect(options)
}
