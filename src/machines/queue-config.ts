// A queue's configuration (CONTRACT §4 `PUT /v1/queues/{name}`); 0 means
// unlimited / off for maxReceives, maxMessages, delayMs and retentionMs.
import { machineError, type MachineError } from './errors.js'
import {
  DELAY_MS_MAX,
  MAX_MESSAGES_MAX,
  MAX_RECEIVES_MAX,
  QUEUE_CONFIG_DEFAULTS,
  RETENTION_MS_MAX,
  VISIBILITY_TIMEOUT_MS_MAX,
} from './limits.js'
import { checkIntegerInRange, checkQueueName } from './validate.js'

export interface QueueConfig {
  /** How long a received message stays invisible, 1 ms to 12 h. */
  visibilityTimeoutMs: number
  /** Failed deliveries after which a message is dead-lettered (or dropped without a DLQ); 0 = never. */
  maxReceives: number
  /** Queue that receives dead-lettered messages; created when first needed. */
  deadLetterQueue: string | null
  /** Messages the queue may hold in any state; 0 = unlimited. */
  maxMessages: number
  /** Default delay before a sent message becomes visible. */
  delayMs: number
  /** Messages older than this (from their send) are dropped; 0 = kept forever. */
  retentionMs: number
}

export type QueueConfigPatch = Partial<QueueConfig>

const CONFIG_FIELDS = ['visibilityTimeoutMs', 'maxReceives', 'deadLetterQueue', 'maxMessages', 'delayMs', 'retentionMs'] as const

export function defaultQueueConfig(): QueueConfig {
  return { ...QUEUE_CONFIG_DEFAULTS }
}

/** Checks a patch as found in a command; `queue` is the queue it applies to (a queue cannot be its own DLQ). */
export function checkQueueConfigPatch(patch: unknown, queue: string): MachineError | undefined {
  if (patch === undefined) return undefined
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return machineError('INVALID_ARGUMENT', 'config must be an object')
  }
  const fields = patch as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!(CONFIG_FIELDS as readonly string[]).includes(key)) return machineError('INVALID_ARGUMENT', `unknown config field ${key}`)
  }
  const { visibilityTimeoutMs, maxReceives, deadLetterQueue, maxMessages, delayMs, retentionMs } = fields
  return (
    (visibilityTimeoutMs === undefined ? undefined : checkIntegerInRange(visibilityTimeoutMs, 1, VISIBILITY_TIMEOUT_MS_MAX, 'visibilityTimeoutMs')) ??
    (maxReceives === undefined ? undefined : checkIntegerInRange(maxReceives, 0, MAX_RECEIVES_MAX, 'maxReceives')) ??
    (maxMessages === undefined ? undefined : checkIntegerInRange(maxMessages, 0, MAX_MESSAGES_MAX, 'maxMessages')) ??
    (delayMs === undefined ? undefined : checkIntegerInRange(delayMs, 0, DELAY_MS_MAX, 'delayMs')) ??
    (retentionMs === undefined ? undefined : checkIntegerInRange(retentionMs, 0, RETENTION_MS_MAX, 'retentionMs')) ??
    checkDeadLetterQueue(deadLetterQueue, queue)
  )
}

function checkDeadLetterQueue(deadLetterQueue: unknown, queue: string): MachineError | undefined {
  if (deadLetterQueue === undefined || deadLetterQueue === null) return undefined
  const error = checkQueueName(deadLetterQueue, 'deadLetterQueue')
  if (error !== undefined) return error
  if (deadLetterQueue === queue) return machineError('INVALID_ARGUMENT', 'a queue cannot be its own deadLetterQueue')
  return undefined
}

/** A new config: `base` with the fields present in `patch` replaced (a checked patch). */
export function applyQueueConfigPatch(base: QueueConfig, patch: QueueConfigPatch | undefined): QueueConfig {
  const next = { ...base }
  if (patch === undefined) return next
  for (const field of CONFIG_FIELDS) {
    const value = patch[field]
    if (value !== undefined) (next as Record<string, unknown>)[field] = value
  }
  return next
}

/** True when every field present in `patch` has the same value in `config`. */
export function configMatchesPatch(config: QueueConfig, patch: QueueConfigPatch | undefined): boolean {
  if (patch === undefined) return true
  return CONFIG_FIELDS.every((field) => patch[field] === undefined || patch[field] === config[field])
}

export function queueConfigEquals(a: QueueConfig, b: QueueConfig): boolean {
  return CONFIG_FIELDS.every((field) => a[field] === b[field])
}

/** The config as a fixed-order tuple, for snapshots. */
export function queueConfigToTuple(config: QueueConfig): [number, number, string | null, number, number, number] {
  return [config.visibilityTimeoutMs, config.maxReceives, config.deadLetterQueue, config.maxMessages, config.delayMs, config.retentionMs]
}

export function queueConfigFromTuple(tuple: readonly unknown[]): QueueConfig {
  const [visibilityTimeoutMs, maxReceives, deadLetterQueue, maxMessages, delayMs, retentionMs] = tuple as [number, number, string | null, number, number, number]
  return { visibilityTimeoutMs, maxReceives, deadLetterQueue, maxMessages, delayMs, retentionMs }
}
