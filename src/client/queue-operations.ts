// client.queues: every queue op of docs/PROTOCOL.md, routed to the queue's
// shard. Sends carry a dedupId (random unless given, when autoDedupId is on),
// which makes them safe to retry after an unknown outcome.
import { randomUUID } from 'node:crypto'
import type { CallExecutor } from './call-executor.js'
import { TroupeClientError } from './client-error.js'
import type {
  BatchMessage,
  Message,
  QueueConfig,
  QueueConfigPatch,
  QueueInfo,
  QueueSummary,
  ReceiveOptions,
  SendOptions,
} from './client-types.js'
import type { Router } from './router.js'

export class QueueOperations {
  readonly #executor: CallExecutor
  readonly #router: Router
  readonly #autoDedupId: boolean

  constructor(executor: CallExecutor, router: Router, autoDedupId: boolean) {
    this.#executor = executor
    this.#router = router
    this.#autoDedupId = autoDedupId
  }

  /** Creates the queue, or updates its configuration. */
  async put(name: string, config?: QueueConfigPatch): Promise<{ created: boolean; config: QueueConfig }> {
    const r = await this.#call(name, 'queue.put', config === undefined ? {} : { config }, true)
    return r as { created: boolean; config: QueueConfig }
  }

  async get(name: string): Promise<QueueInfo> {
    return (await this.#call(name, 'queue.get', {}, true)) as QueueInfo
  }

  /** Every queue of the cluster with its stats (the node asks every shard). */
  async list(): Promise<QueueSummary[]> {
    const r = (await this.#executor.run({ op: 'queue.list', args: {}, route: 'any', idempotent: true })) as { queues?: QueueSummary[] }
    return r.queues ?? []
  }

  async delete(name: string): Promise<void> {
    await this.#call(name, 'queue.delete', {}, false)
  }

  async purge(name: string): Promise<void> {
    await this.#call(name, 'queue.purge', {}, false)
  }

  /** Sends one message; resolves with its id (the first send's id when the dedupId repeats). */
  async send(name: string, body: unknown, options: SendOptions = {}): Promise<string> {
    const dedupId = options.dedupId ?? (this.#autoDedupId ? randomUUID() : undefined)
    const args: Record<string, unknown> = { body }
    if (options.delayMs !== undefined) args['delayMs'] = options.delayMs
    if (options.priority !== undefined) args['priority'] = options.priority
    if (dedupId !== undefined) args['dedupId'] = dedupId
    const r = (await this.#call(name, 'send', args, dedupId !== undefined)) as { id: string }
    return r.id
  }

  /** Sends 1 to 1000 messages, all or nothing; ids in order. */
  async sendBatch(name: string, messages: readonly BatchMessage[]): Promise<string[]> {
    if (!Array.isArray(messages)) throw new TroupeClientError('INVALID_ARGUMENT', 'messages must be an array')
    const wire = messages.map((message) => {
      const dedupId = message.dedupId ?? (this.#autoDedupId ? randomUUID() : undefined)
      const item: Record<string, unknown> = { body: message.body }
      if (message.delayMs !== undefined) item['delayMs'] = message.delayMs
      if (message.priority !== undefined) item['priority'] = message.priority
      if (dedupId !== undefined) item['dedupId'] = dedupId
      return item
    })
    const idempotent = wire.every((item) => item['dedupId'] !== undefined)
    const r = (await this.#call(name, 'sendBatch', { messages: wire }, idempotent)) as { ids: string[] }
    return r.ids
  }

  /**
   * Receives up to `max` messages, long-polling up to `waitMs` when the queue
   * is empty. Retried after an unknown outcome: messages a lost attempt
   * received come back once their visibility timeout passes.
   */
  async receive(name: string, options: ReceiveOptions = {}): Promise<Message[]> {
    const args: Record<string, unknown> = {}
    if (options.max !== undefined) args['max'] = options.max
    if (options.waitMs !== undefined) args['waitMs'] = options.waitMs
    if (options.visibilityTimeoutMs !== undefined) args['visibilityTimeoutMs'] = options.visibilityTimeoutMs
    const r = (await this.#call(name, 'receive', args, true, options.waitMs ?? 0)) as { messages?: unknown[] }
    return (r.messages ?? []).map(toMessage)
  }

  /** Acks one receipt or many; RECEIPT_NOT_FOUND lists the `missing` ones (the others are acked). Not retried after an unknown outcome. */
  async ack(name: string, receipts: string | readonly string[]): Promise<void> {
    const args = typeof receipts === 'string' ? { receipt: receipts } : { receipts: [...receipts] }
    await this.#call(name, 'ack', args, false)
  }

  async nack(name: string, receipt: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.#call(name, 'nack', options.delayMs === undefined ? { receipt } : { receipt, delayMs: options.delayMs }, false)
  }

  /** The delivery stays invisible for `timeoutMs` from now. */
  async extendVisibility(name: string, receipt: string, timeoutMs: number): Promise<void> {
    await this.#call(name, 'visibility', { receipt, timeoutMs }, false)
  }

  #call(name: string, op: string, args: Record<string, unknown>, idempotent: boolean, extraDeadlineMs = 0): Promise<unknown> {
    if (typeof name !== 'string') return Promise.reject(new TroupeClientError('INVALID_ARGUMENT', `queue name must be a string, got ${typeof name}`))
    const shard = this.#router.view.shardOfQueue(name)
    return this.#executor.run({ op, args: { queue: name, ...args }, route: { shard }, idempotent, extraDeadlineMs })
  }
}

function toMessage(wire: unknown): Message {
  const m = (typeof wire === 'object' && wire !== null ? wire : {}) as Record<string, unknown>
  const sentAt = m['sentAt'] instanceof Date ? m['sentAt'].getTime() : Number(m['sentAt'] ?? 0)
  return {
    id: String(m['id']),
    receipt: String(m['receipt']),
    body: m['body'],
    receiveCount: Number(m['receiveCount'] ?? 0),
    sentAt,
    priority: Number(m['priority'] ?? 0),
  }
}
