// JSON Schemas of every request body and query of the API. The same objects
// drive validation (ajv) and the OpenAPI document, so the two cannot drift.
// Ranges come from the machine's limits (CONTRACT §3).
import {
  ACK_RECEIPTS_MAX,
  DEDUP_ID_LENGTH_MAX,
  DELAY_MS_MAX,
  KV_TTL_MS_MAX,
  LOG_INDEX_MAX,
  MAX_MESSAGES_MAX,
  MAX_RECEIVES_MAX,
  PRIORITY_MAX,
  PRIORITY_MIN,
  QUEUE_NAME_LENGTH_MAX,
  QUEUE_NAME_PATTERN,
  RECEIPT_LENGTH_MAX,
  RECEIVE_MESSAGES_MAX,
  RECEIVE_WAIT_MS_MAX,
  RETENTION_MS_MAX,
  SEND_BATCH_MESSAGES_MAX,
  VISIBILITY_TIMEOUT_MS_MAX,
} from '../machines/index.js'

export interface JsonSchema {
  [keyword: string]: unknown
}

const integer = (minimum: number, maximum: number, description?: string): JsonSchema => ({
  type: 'integer',
  minimum,
  maximum,
  ...(description !== undefined ? { description } : {}),
})

export const queueNameSchema: JsonSchema = {
  type: 'string',
  pattern: QUEUE_NAME_PATTERN.source,
  maxLength: QUEUE_NAME_LENGTH_MAX,
}

const receiptSchema: JsonSchema = { type: 'string', minLength: 1, maxLength: RECEIPT_LENGTH_MAX }

export const queueConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    visibilityTimeoutMs: integer(1, VISIBILITY_TIMEOUT_MS_MAX, 'default 30000'),
    maxReceives: integer(0, MAX_RECEIVES_MAX, '0 = unlimited'),
    deadLetterQueue: { anyOf: [queueNameSchema, { type: 'null' }] },
    maxMessages: integer(0, MAX_MESSAGES_MAX, '0 = unlimited'),
    delayMs: integer(0, DELAY_MS_MAX),
    retentionMs: integer(0, RETENTION_MS_MAX, '0 = kept forever; default 345600000'),
  },
}

const sendFields = {
  body: { description: 'any JSON value; at most 1 MiB once msgpack-encoded' },
  delayMs: integer(0, DELAY_MS_MAX),
  priority: integer(PRIORITY_MIN, PRIORITY_MAX, 'higher first'),
  dedupId: { type: 'string', minLength: 1, maxLength: DEDUP_ID_LENGTH_MAX },
}

export const sendOneSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['body'],
  properties: sendFields,
}

export const sendBatchSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['messages'],
  properties: {
    messages: { type: 'array', minItems: 1, maxItems: SEND_BATCH_MESSAGES_MAX, items: sendOneSchema },
  },
}

export const receiveSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max: integer(1, RECEIVE_MESSAGES_MAX, 'default 1'),
    waitMs: integer(0, RECEIVE_WAIT_MS_MAX, 'long-poll up to this long when the queue is empty; default 0'),
    visibilityTimeoutMs: integer(1, VISIBILITY_TIMEOUT_MS_MAX),
  },
}

export const ackOneSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['receipt'],
  properties: { receipt: receiptSchema },
}

export const ackBatchSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['receipts'],
  properties: { receipts: { type: 'array', minItems: 1, maxItems: ACK_RECEIPTS_MAX, items: receiptSchema } },
}

export const nackSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['receipt'],
  properties: { receipt: receiptSchema, delayMs: integer(0, DELAY_MS_MAX) },
}

export const visibilitySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['receipt', 'timeoutMs'],
  properties: { receipt: receiptSchema, timeoutMs: integer(1, VISIBILITY_TIMEOUT_MS_MAX) },
}

export const kvPutQuerySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ttlMs: integer(0, KV_TTL_MS_MAX, '0 = no expiry'),
    ifVersion: integer(0, LOG_INDEX_MAX, '0 = the key must not exist; n = its current version must be n'),
  },
}

export const kvGetQuerySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { consistency: { type: 'string', enum: ['linearizable', 'stale'] } },
}

export const kvDeleteQuerySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { ifVersion: integer(1, LOG_INDEX_MAX) },
}

export const emptyQuerySchema: JsonSchema = { type: 'object', additionalProperties: false, properties: {} }

/** Typed views of what the schemas accept. */
export interface SendOneRequest {
  body: unknown
  delayMs?: number
  priority?: number
  dedupId?: string
}
export interface SendBatchRequest {
  messages: SendOneRequest[]
}
export interface ReceiveRequest {
  max?: number
  waitMs?: number
  visibilityTimeoutMs?: number
}
export interface AckOneRequest {
  receipt: string
}
export interface AckBatchRequest {
  receipts: string[]
}
export interface NackRequest {
  receipt: string
  delayMs?: number
}
export interface VisibilityRequest {
  receipt: string
  timeoutMs: number
}
export interface KvPutQuery {
  ttlMs?: number
  ifVersion?: number
}
export interface KvGetQuery {
  consistency?: 'linearizable' | 'stale'
}
export interface KvDeleteQuery {
  ifVersion?: number
}
