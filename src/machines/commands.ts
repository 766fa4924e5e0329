// The commands of a shard's log: plain msgpack-able objects with a `type`.
// The node proposes them (stamping each entry with the leader's clock) and
// every replica applies them in log order. `validateShardCommand` checks a
// decoded entry; `ShardMachine.apply` runs the same check, so a malformed
// entry is answered with an error and changes nothing.
import { machineError, type MachineError } from './errors.js'
import {
  DELAY_MS_MAX,
  KV_TTL_MS_MAX,
  LOG_INDEX_MAX,
  MESSAGE_ID_LENGTH_MAX,
  REQUEST_BYTES_MAX,
  VISIBILITY_TIMEOUT_MS_MAX,
} from './limits.js'
import { checkQueueConfigPatch, type QueueConfigPatch } from './queue-config.js'
import {
  checkBatchSize,
  checkBody,
  checkDedupId,
  checkIntegerInRange,
  checkKey,
  checkPriority,
  checkQueueName,
  checkReceipt,
  checkReceiptCount,
  checkReceiveMax,
  checkValue,
} from './validate.js'

/**
 * Creates a queue. When it exists: with `update` the config patch is applied
 * (an upsert, as `PUT /v1/queues/{name}`); without, the command succeeds with
 * `created: false` if every field given equals the queue's, else CONFLICT
 * (so `config: {}` means "make sure it exists", as dead-lettering needs).
 */
export interface QueueCreateCommand {
  type: 'queue.create'
  queue: string
  config?: QueueConfigPatch
  update?: boolean
}

export interface QueueUpdateCommand {
  type: 'queue.update'
  queue: string
  config: QueueConfigPatch
}

export interface QueueDeleteCommand {
  type: 'queue.delete'
  queue: string
}

export interface QueuePurgeCommand {
  type: 'queue.purge'
  queue: string
}

export interface SendMessage {
  /** Opaque bytes: the gateway's encoding of the client's body. */
  body: Uint8Array
  /** Overrides the queue's `delayMs`. */
  delayMs?: number
  /** 0..9, higher first. Default 0. */
  priority?: number
  /** A repeat within 5 minutes of the first send returns the first id and adds nothing. */
  dedupId?: string
}

/** Sends 1..1000 messages, all or nothing. */
export interface QueueSendCommand {
  type: 'queue.send'
  queue: string
  messages: SendMessage[]
}

export interface QueueReceiveCommand {
  type: 'queue.receive'
  queue: string
  /** 1..100 */
  max: number
  /** Overrides the queue's visibility timeout for these deliveries. */
  visibilityTimeoutMs?: number
}

/** Acks 1..1000 receipts; the result lists exactly the ones that were not found (the others are acked). */
export interface QueueAckCommand {
  type: 'queue.ack'
  queue: string
  receipts: string[]
}

/** A failed delivery: visible again after `delayMs`, or dead-lettered when `receiveCount >= maxReceives > 0`. */
export interface QueueNackCommand {
  type: 'queue.nack'
  queue: string
  receipt: string
  delayMs?: number
}

/** Sets the delivery's visibility deadline to `timeoutMs` from this entry's time. */
export interface QueueVisibilityCommand {
  type: 'queue.visibility'
  queue: string
  receipt: string
  timeoutMs: number
}

/** The last step of dead-lettering: the copy is in the DLQ, remove the source message. Idempotent. */
export interface QueueDeadLetteredCommand {
  type: 'queue.dead-lettered'
  queue: string
  messageId: string
}

/**
 * Writes a value. `ifVersion`: absent = unconditional; 0 = the key must not
 * exist (create only); n > 0 = the current version must be n. Else CONFLICT.
 * `ttlMs` 0 or absent = no expiry.
 */
export interface KvPutCommand {
  type: 'kv.put'
  key: string
  value: Uint8Array
  ttlMs?: number
  ifVersion?: number
}

/** Deletes a key (KEY_NOT_FOUND when absent); `ifVersion` as for put, except 0 is refused. */
export interface KvDeleteCommand {
  type: 'kv.delete'
  key: string
  ifVersion?: number
}

/** Proposed by the leader when `nextDueMs()` has passed: performs due transitions (bounded). */
export interface TickCommand {
  type: 'tick'
}

export type ShardCommand =
  | QueueCreateCommand
  | QueueUpdateCommand
  | QueueDeleteCommand
  | QueuePurgeCommand
  | QueueSendCommand
  | QueueReceiveCommand
  | QueueAckCommand
  | QueueNackCommand
  | QueueVisibilityCommand
  | QueueDeadLetteredCommand
  | KvPutCommand
  | KvDeleteCommand
  | TickCommand

export type ShardCommandType = ShardCommand['type']

type Fields = Record<string, unknown>

function invalid(message: string): MachineError {
  return machineError('INVALID_ARGUMENT', message)
}

function optional(value: unknown, check: (value: unknown) => MachineError | undefined): MachineError | undefined {
  return value === undefined ? undefined : check(value)
}

function checkOptionalBoolean(value: unknown, field: string): MachineError | undefined {
  return value === undefined || typeof value === 'boolean' ? undefined : invalid(`${field} must be a boolean`)
}

function checkSendMessage(value: unknown, at: number): MachineError | undefined {
  if (typeof value !== 'object' || value === null) return invalid(`messages[${at}] must be an object`)
  const m = value as Fields
  return (
    checkBody(m.body) ??
    optional(m.delayMs, (v) => checkIntegerInRange(v, 0, DELAY_MS_MAX, 'delayMs')) ??
    optional(m.priority, checkPriority) ??
    optional(m.dedupId, checkDedupId)
  )
}

function checkSend(c: Fields): MachineError | undefined {
  if (!Array.isArray(c.messages)) return invalid('messages must be an array')
  const sizeError = checkBatchSize(c.messages.length)
  if (sizeError !== undefined) return sizeError
  let totalBytes = 0
  for (let at = 0; at < c.messages.length; at++) {
    const error = checkSendMessage(c.messages[at], at)
    if (error !== undefined) return error
    totalBytes += (c.messages[at] as SendMessage).body.byteLength
  }
  if (totalBytes > REQUEST_BYTES_MAX) return machineError('PAYLOAD_TOO_LARGE', `a batch may carry at most ${REQUEST_BYTES_MAX} body bytes`)
  return undefined
}

function checkReceipts(receipts: unknown): MachineError | undefined {
  if (!Array.isArray(receipts)) return invalid('receipts must be an array')
  const countError = checkReceiptCount(receipts.length)
  if (countError !== undefined) return countError
  for (const receipt of receipts) {
    const error = checkReceipt(receipt)
    if (error !== undefined) return error
  }
  return undefined
}

function checkMessageId(messageId: unknown): MachineError | undefined {
  if (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > MESSAGE_ID_LENGTH_MAX) {
    return invalid(`messageId must be a string of 1 to ${MESSAGE_ID_LENGTH_MAX} characters`)
  }
  return undefined
}

function checkVersion(value: unknown, min: number): MachineError | undefined {
  return checkIntegerInRange(value, min, LOG_INDEX_MAX, 'ifVersion')
}

/** Checks a decoded log entry; undefined when it is a well-formed `ShardCommand`. */
export function checkShardCommand(value: unknown): MachineError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('a command must be an object')
  const c = value as Fields
  switch (c.type) {
    case 'queue.create':
      return checkQueueName(c.queue) ?? checkQueueConfigPatch(c.config, c.queue as string) ?? checkOptionalBoolean(c.update, 'update')
    case 'queue.update':
      if (c.config === undefined) return invalid('config is required')
      return checkQueueName(c.queue) ?? checkQueueConfigPatch(c.config, c.queue as string)
    case 'queue.delete':
    case 'queue.purge':
      return checkQueueName(c.queue)
    case 'queue.send':
      return checkQueueName(c.queue) ?? checkSend(c)
    case 'queue.receive':
      return (
        checkQueueName(c.queue) ??
        checkReceiveMax(c.max) ??
        optional(c.visibilityTimeoutMs, (v) => checkIntegerInRange(v, 1, VISIBILITY_TIMEOUT_MS_MAX, 'visibilityTimeoutMs'))
      )
    case 'queue.ack':
      return checkQueueName(c.queue) ?? checkReceipts(c.receipts)
    case 'queue.nack':
      return checkQueueName(c.queue) ?? checkReceipt(c.receipt) ?? optional(c.delayMs, (v) => checkIntegerInRange(v, 0, DELAY_MS_MAX, 'delayMs'))
    case 'queue.visibility':
      return checkQueueName(c.queue) ?? checkReceipt(c.receipt) ?? checkIntegerInRange(c.timeoutMs, 1, VISIBILITY_TIMEOUT_MS_MAX, 'timeoutMs')
    case 'queue.dead-lettered':
      return checkQueueName(c.queue) ?? checkMessageId(c.messageId)
    case 'kv.put':
      return (
        checkKey(c.key) ??
        checkValue(c.value) ??
        optional(c.ttlMs, (v) => checkIntegerInRange(v, 0, KV_TTL_MS_MAX, 'ttlMs')) ??
        optional(c.ifVersion, (v) => checkVersion(v, 0))
      )
    case 'kv.delete':
      return checkKey(c.key) ?? optional(c.ifVersion, (v) => checkVersion(v, 1))
    case 'tick':
      return undefined
    default:
      return invalid('unknown command type')
  }
}

/** Narrows a decoded log entry to a `ShardCommand`, or returns the error to answer with. */
export function validateShardCommand(value: unknown): { ok: true; command: ShardCommand } | { ok: false; error: MachineError } {
  const error = checkShardCommand(value)
  return error === undefined ? { ok: true, command: value as ShardCommand } : { ok: false, error }
}
