// The operations of the client protocol (docs/PROTOCOL.md "Operations"): each
// checks its arguments, naming the field at fault, and runs on the node.
// Shard ops run on `ctx.queues`/`ctx.kv`: the node's direct API (this node's
// replica only: NOT_LEADER/MOVED otherwise) or, for a `forward` connection,
// the routed one. The node checks names, sizes and ranges again itself.
import {
  ACK_RECEIPTS_MAX,
  checkDedupId,
  checkIntegerInRange,
  checkKey,
  checkQueueConfigPatch,
  checkQueueName,
  checkReceipt,
  DELAY_MS_MAX,
  KV_TTL_MS_MAX,
  LOG_INDEX_MAX,
  MESSAGE_BODY_BYTES_MAX,
  PRIORITY_MAX,
  PRIORITY_MIN,
  RECEIVE_MESSAGES_MAX,
  RECEIVE_WAIT_MS_MAX,
  SEND_BATCH_MESSAGES_MAX,
  VISIBILITY_TIMEOUT_MS_MAX,
  type MachineError,
  type QueueConfigPatch,
} from '../machines/index.js'
import { TroupeError } from '../node/node-errors.js'
import type { BatchMessage, Kv, Message, Queues, ReceiveOptions, SendOptions, TroupeNode } from '../node/troupe-node.js'
import type { ClientLongPolls } from './client-long-polls.js'
import { invalidArgument } from './client-wire-error.js'
import { createWirePackr } from './wire-codec.js'

export interface OpContext {
  readonly node: TroupeNode
  readonly queues: Queues
  readonly kv: Kv
  readonly longPolls: ClientLongPolls
  /** Aborts when the connection closes or the server shuts down (long polls answer at once). */
  readonly signal: AbortSignal
  /** Bytes the payload of an answer frame may take. */
  readonly maxAnswerBytes: number
}

type Args = Readonly<Record<string, unknown>>

interface Op {
  /** The request's fields besides `id` and `op`; any other is refused. */
  readonly fields: ReadonlySet<string>
  run(args: Args, ctx: OpContext): Promise<unknown>
}

const EMPTY = Object.freeze({})

function op(fields: readonly string[], run: Op['run']): Op {
  return { fields: new Set(fields), run }
}

const ops: ReadonlyMap<string, Op> = new Map<string, Op>([
  ['ping', op([], async () => EMPTY)],
  ['cluster', op([], async (_args, ctx) => clusterMap(ctx.node))],
  [
    'cluster.remove',
    op(['node'], async (args, ctx) => {
      const id = integerArg(args, 'node', 1, Number.MAX_SAFE_INTEGER)
      if (id === undefined) throw invalidArgument('node is required')
      await ctx.node.removeMember(id)
      return EMPTY
    }),
  ],
  [
    'queue.put',
    op(['queue', 'config'], async (args, ctx) => {
      const queue = queueArg(args)
      const config = optional(args, 'config') ?? {}
      fail(checkQueueConfigPatch(config, queue))
      return ctx.queues.put(queue, config as QueueConfigPatch)
    }),
  ],
  ['queue.get', op(['queue'], async (args, ctx) => ctx.queues.get(queueArg(args)))],
  // Listing asks every shard, so it is always served with forwarding.
  ['queue.list', op([], async (_args, ctx) => ({ queues: await ctx.node.queues.list() }))],
  [
    'queue.delete',
    op(['queue'], async (args, ctx) => {
      await ctx.queues.delete(queueArg(args))
      return EMPTY
    }),
  ],
  [
    'queue.purge',
    op(['queue'], async (args, ctx) => {
      await ctx.queues.purge(queueArg(args))
      return EMPTY
    }),
  ],
  [
    'send',
    op(['queue', 'body', 'delayMs', 'priority', 'dedupId'], async (args, ctx) => {
      const queue = queueArg(args)
      const { body, ...options } = batchMessage(args, '')
      return { id: await ctx.queues.send(queue, body, options) }
    }),
  ],
  [
    'sendBatch',
    op(['queue', 'messages'], async (args, ctx) => {
      const queue = queueArg(args)
      const messages = args['messages']
      if (!Array.isArray(messages)) throw invalidArgument('messages must be an array')
      fail(checkIntegerInRange(messages.length, 1, SEND_BATCH_MESSAGES_MAX, 'the number of messages'))
      const batch = messages.map((message: unknown, i) => {
        const prefix = `messages[${i}].`
        if (!isMap(message)) throw invalidArgument(`messages[${i}] must be a map`)
        for (const field in message) if (!sendFields.has(field)) throw invalidArgument(`unknown field '${prefix}${field}'`)
        return batchMessage(message, prefix)
      })
      return { ids: await ctx.queues.sendBatch(queue, batch) }
    }),
  ],
  [
    'receive',
    op(['queue', 'max', 'waitMs', 'visibilityTimeoutMs'], async (args, ctx) => {
      const queue = queueArg(args)
      const max = integerArg(args, 'max', 1, RECEIVE_MESSAGES_MAX) ?? 1
      const waitMs = integerArg(args, 'waitMs', 0, RECEIVE_WAIT_MS_MAX) ?? 0
      const visibilityTimeoutMs = integerArg(args, 'visibilityTimeoutMs', 1, VISIBILITY_TIMEOUT_MS_MAX)
      const options: ReceiveOptions & { max: number; waitMs: number } = { max, waitMs, ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}) }
      const messages = waitMs > 0 ? await ctx.longPolls.receive(ctx.queues, queue, options, ctx.signal) : await ctx.queues.receive(queue, options)
      return { messages: fitInAnswer(messages, queue, ctx) }
    }),
  ],
  [
    'ack',
    op(['queue', 'receipt', 'receipts'], async (args, ctx) => {
      const queue = queueArg(args)
      const one = optional(args, 'receipt')
      const many = optional(args, 'receipts')
      if ((one === undefined) === (many === undefined)) throw invalidArgument('ack takes exactly one of receipt and receipts')
      if (one !== undefined) {
        fail(checkReceipt(one))
        await ctx.queues.ack(queue, one as string)
        return EMPTY
      }
      if (!Array.isArray(many)) throw invalidArgument('receipts must be an array')
      fail(checkIntegerInRange(many.length, 1, ACK_RECEIPTS_MAX, 'the number of receipts'))
      many.forEach((receipt: unknown, i) => fail(checkReceipt(receipt), `receipts[${i}]: `))
      await ctx.queues.ack(queue, many as string[])
      return EMPTY
    }),
  ],
  [
    'nack',
    op(['queue', 'receipt', 'delayMs'], async (args, ctx) => {
      const queue = queueArg(args)
      const receipt = receiptArg(args)
      const delayMs = integerArg(args, 'delayMs', 0, DELAY_MS_MAX)
      await ctx.queues.nack(queue, receipt, delayMs !== undefined ? { delayMs } : {})
      return EMPTY
    }),
  ],
  [
    'visibility',
    op(['queue', 'receipt', 'timeoutMs'], async (args, ctx) => {
      const queue = queueArg(args)
      const receipt = receiptArg(args)
      const timeoutMs = integerArg(args, 'timeoutMs', 1, VISIBILITY_TIMEOUT_MS_MAX)
      if (timeoutMs === undefined) throw invalidArgument('timeoutMs is required')
      await ctx.queues.extendVisibility(queue, receipt, timeoutMs)
      return EMPTY
    }),
  ],
  [
    'kv.get',
    op(['key', 'consistency'], async (args, ctx) => {
      const key = keyArg(args)
      const consistency = optional(args, 'consistency')
      if (consistency !== undefined && consistency !== 'linearizable' && consistency !== 'stale') {
        throw invalidArgument("consistency must be 'linearizable' or 'stale'")
      }
      const entry = await ctx.kv.get(key, consistency !== undefined ? { consistency } : {})
      return entry ?? null
    }),
  ],
  [
    'kv.put',
    op(['key', 'value', 'ttlMs', 'ifVersion'], async (args, ctx) => {
      const key = keyArg(args)
      const value = args['value']
      if (!(value instanceof Uint8Array) && typeof value !== 'string') throw invalidArgument('value must be bin or str')
      const ttlMs = integerArg(args, 'ttlMs', 0, KV_TTL_MS_MAX)
      const ifVersion = integerArg(args, 'ifVersion', 0, LOG_INDEX_MAX)
      const version = await ctx.kv.put(key, value, { ...(ttlMs !== undefined ? { ttlMs } : {}), ...(ifVersion !== undefined ? { ifVersion } : {}) })
      return { version }
    }),
  ],
  [
    'kv.delete',
    op(['key', 'ifVersion'], async (args, ctx) => {
      const key = keyArg(args)
      const ifVersion = integerArg(args, 'ifVersion', 1, LOG_INDEX_MAX)
      await ctx.kv.delete(key, ifVersion !== undefined ? { ifVersion } : {})
      return EMPTY
    }),
  ],
])

/** The names of every op, for error messages and tests. */
export const CLIENT_OPS: readonly string[] = [...ops.keys()]

/** Runs one request (its `id` was checked by the caller). Rejects with TroupeError for a bad request. */
export async function runOp(request: Args, ctx: OpContext): Promise<unknown> {
  const name = request['op']
  if (typeof name !== 'string') throw invalidArgument('op must be a string')
  const found = ops.get(name)
  if (found === undefined) throw invalidArgument(`unknown op '${name.slice(0, 64)}'`)
  for (const field in request) {
    if (field !== 'id' && field !== 'op' && !found.fields.has(field)) throw invalidArgument(`unknown field '${field.slice(0, 64)}' for op '${name}'`)
  }
  return found.run(request, ctx)
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

/** A field's value; nil counts as absent (clients in other languages often send it for "not set"). */
function optional(args: Args, field: string): unknown {
  const value = args[field]
  return value === null ? undefined : value
}

/** Throws the check's error; `prefix` places the field it names (`messages[3].`). */
function fail(error: MachineError | undefined, prefix = ''): void {
  if (error === undefined) return
  throw new TroupeError(error.code, `${prefix}${error.message}`)
}

function queueArg(args: Args): string {
  const queue = args['queue']
  if (queue === undefined) throw invalidArgument('queue is required')
  fail(checkQueueName(queue, 'queue'))
  return queue as string
}

function keyArg(args: Args): string {
  const key = args['key']
  if (key === undefined) throw invalidArgument('key is required')
  fail(checkKey(key))
  return key as string
}

function receiptArg(args: Args): string {
  const receipt = args['receipt']
  if (receipt === undefined) throw invalidArgument('receipt is required')
  fail(checkReceipt(receipt))
  return receipt as string
}

function integerArg(args: Args, field: string, min: number, max: number, prefix = ''): number | undefined {
  const value = optional(args, field)
  if (value === undefined) return undefined
  fail(checkIntegerInRange(value, min, max, `${prefix}${field}`))
  return value as number
}

const sendFields: ReadonlySet<string> = new Set(['body', 'delayMs', 'priority', 'dedupId'])

/** The body and send options of `send` or of one batch item (`prefix` names it in errors). */
function batchMessage(args: Args, prefix: string): BatchMessage {
  if (!('body' in args)) throw invalidArgument(`${prefix}body is required`)
  const options: SendOptions = {}
  const delayMs = integerArg(args, 'delayMs', 0, DELAY_MS_MAX, prefix)
  if (delayMs !== undefined) options.delayMs = delayMs
  const priority = integerArg(args, 'priority', PRIORITY_MIN, PRIORITY_MAX, prefix)
  if (priority !== undefined) options.priority = priority
  const dedupId = optional(args, 'dedupId')
  if (dedupId !== undefined) {
    fail(checkDedupId(dedupId), prefix)
    options.dedupId = dedupId as string
  }
  return { ...options, body: args['body'] }
}

async function clusterMap(node: TroupeNode): Promise<unknown> {
  const status = await node.status()
  return {
    node: node.id,
    shardCount: node.shardCount,
    nodes: node.nodes().map((member) => ({
      id: member.id,
      peer: member.peer,
      ...(member.http !== undefined ? { http: member.http } : {}),
      ...(member.tcp !== undefined ? { tcp: member.tcp } : {}),
      state: member.state,
    })),
    shards: status.shards.map((shard) => ({ id: shard.id, leader: shard.leader, term: shard.term, commitIndex: shard.commitIndex, members: shard.members })),
  }
}

/** Room in an answer frame for everything around the messages (id, ok, field names, array header). */
const ANSWER_ENVELOPE_BYTES = 256
const measurePackr = createWirePackr()

/**
 * The messages that fit in one answer frame. A receive of many large bodies
 * (100 × 1 MiB) would not: those past the limit are released at once (nack,
 * which counts as a failed delivery) instead of staying invisible for their
 * visibility timeout. Sizes are measured only when the limit could be reached.
 */
function fitInAnswer(messages: Message[], queue: string, ctx: OpContext): Message[] {
  const budgetBytes = ctx.maxAnswerBytes - ANSWER_ENVELOPE_BYTES
  if (messages.length * (MESSAGE_BODY_BYTES_MAX + ANSWER_ENVELOPE_BYTES) <= budgetBytes) return messages
  let usedBytes = 0
  let fitting = 0
  for (const message of messages) {
    const sizeBytes = measurePackr.pack(message).length
    if (usedBytes + sizeBytes > budgetBytes) break
    usedBytes += sizeBytes
    fitting++
  }
  for (const message of messages.slice(fitting)) ctx.queues.nack(queue, message.receipt).catch(() => undefined)
  if (fitting === 0 && messages.length > 0) {
    throw new TroupeError('PAYLOAD_TOO_LARGE', `a received message does not fit in an answer frame of ${ctx.maxAnswerBytes} bytes; it was released`)
  }
  return messages.slice(0, fitting)
}
