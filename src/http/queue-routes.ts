// The queue routes of CONTRACT §4.
import { checkQueueName } from '../machines/index.js'
import type { TroupeNode } from '../node/troupe-node.js'
import { HttpError } from './http-error.js'
import type { LongPolls } from './long-polls.js'
import {
  ackBatchSchema,
  ackOneSchema,
  nackSchema,
  queueConfigSchema,
  receiveSchema,
  sendBatchSchema,
  sendOneSchema,
  visibilitySchema,
  type AckBatchRequest,
  type AckOneRequest,
  type NackRequest,
  type ReceiveRequest,
  type SendBatchRequest,
  type SendOneRequest,
  type VisibilityRequest,
} from './request-schemas.js'
import { bodyValidator } from './request-validator.js'
import { jsonReply, NO_CONTENT, type RequestContext, type Route } from './route.js'
import type { QueueConfigPatch } from '../machines/index.js'

const validateConfig = bodyValidator<QueueConfigPatch>(queueConfigSchema)
const validateSendOne = bodyValidator<SendOneRequest>(sendOneSchema)
const validateSendBatch = bodyValidator<SendBatchRequest>(sendBatchSchema)
const validateReceive = bodyValidator<ReceiveRequest>(receiveSchema)
const validateAckOne = bodyValidator<AckOneRequest>(ackOneSchema)
const validateAckBatch = bodyValidator<AckBatchRequest>(ackBatchSchema)
const validateNack = bodyValidator<NackRequest>(nackSchema)
const validateVisibility = bodyValidator<VisibilityRequest>(visibilitySchema)

/** The queue name of the path, checked before anything else is read. */
export function queueOf(ctx: RequestContext): string {
  const name = ctx.params.name
  const error = checkQueueName(name, 'name')
  if (error !== undefined) throw new HttpError('INVALID_ARGUMENT', error.message, { field: 'name' })
  return name!
}

function hasField(value: unknown, field: string): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && field in value
}

const common = {
  400: 'INVALID_ARGUMENT: bad name, bad JSON or a field out of range',
  401: 'UNAUTHORIZED: token required and missing or wrong',
  413: 'PAYLOAD_TOO_LARGE: over the limits of CONTRACT §3',
  429: 'RATE_LIMITED (with Retry-After)',
  503: 'UNAVAILABLE: no quorum or shutting down (with Retry-After)',
  504: 'TIMEOUT: the commit did not finish in time; the outcome is unknown',
}
const notFound = { 404: 'QUEUE_NOT_FOUND' }

export function queueRoutes(node: TroupeNode, longPolls: LongPolls): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/queues',
      auth: true,
      doc: { summary: 'List queues with their stats', responses: { 200: '{"queues":[{"name","stats"}]}', 401: common[401], 429: common[429], 503: common[503], 504: common[504] } },
      async handler() {
        return jsonReply(200, { queues: await node.queues.list() })
      },
    },
    {
      method: 'PUT',
      pattern: '/v1/queues/{name}',
      auth: true,
      doc: {
        summary: 'Create a queue, or update its config',
        requestBody: queueConfigSchema,
        responses: { 200: 'updated: {"name","config"}', 201: 'created: {"name","config"}', 409: 'CONFLICT: queue config conflict', ...common },
      },
      async handler(ctx) {
        const name = queueOf(ctx)
        const config = validateConfig(await ctx.readJson())
        const result = await node.queues.put(name, config)
        return jsonReply(result.created ? 201 : 200, { name, config: result.config })
      },
    },
    {
      method: 'GET',
      pattern: '/v1/queues/{name}',
      auth: true,
      doc: { summary: "A queue's config and stats (O(1))", responses: { 200: '{"name","config","stats"}', ...notFound, ...common } },
      async handler(ctx) {
        return jsonReply(200, await node.queues.get(queueOf(ctx)))
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/queues/{name}',
      auth: true,
      doc: { summary: 'Delete a queue and its messages', responses: { 204: 'deleted', ...notFound, ...common } },
      async handler(ctx) {
        await node.queues.delete(queueOf(ctx))
        return NO_CONTENT
      },
    },
    {
      method: 'POST',
      pattern: '/v1/queues/{name}/purge',
      auth: true,
      doc: { summary: 'Drop every message of a queue', responses: { 204: 'purged', ...notFound, ...common } },
      async handler(ctx) {
        await node.queues.purge(queueOf(ctx))
        return NO_CONTENT
      },
    },
    {
      method: 'POST',
      pattern: '/v1/queues/{name}/messages',
      auth: true,
      doc: {
        summary: 'Send one message ({"body",...} → {"id"}) or a batch ({"messages":[...]} → {"ids"}, all or nothing)',
        requestBody: { oneOf: [sendOneSchema, sendBatchSchema] },
        responses: { 201: '{"id"} or {"ids":[...]}', ...notFound, 503: 'UNAVAILABLE, or QUEUE_FULL when maxMessages is reached (with Retry-After)', ...withoutKey(common, 503) },
      },
      async handler(ctx) {
        const name = queueOf(ctx)
        const request = await ctx.readJson()
        if (hasField(request, 'messages')) {
          const { messages } = validateSendBatch(request)
          return jsonReply(201, { ids: await node.queues.sendBatch(name, messages) })
        }
        const { body, ...options } = validateSendOne(request)
        return jsonReply(201, { id: await node.queues.send(name, body, options) })
      },
    },
    {
      method: 'POST',
      pattern: '/v1/queues/{name}/receive',
      auth: true,
      doc: {
        summary: 'Receive up to `max` messages, long-polling up to `waitMs` when the queue is empty',
        requestBody: receiveSchema,
        responses: {
          200: '{"messages":[{"id","receipt","body","receiveCount","sentAt"}]}',
          ...notFound,
          ...withoutKey(common, 429),
          429: 'RATE_LIMITED, or this node holds its limit of long-polls (with Retry-After)',
        },
      },
      async handler(ctx) {
        const name = queueOf(ctx)
        const { max = 1, waitMs = 0, visibilityTimeoutMs } = validateReceive(await ctx.readJson())
        const options = { max, waitMs, ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}) }
        const messages = waitMs > 0 ? await longPolls.receive(name, options, ctx.signal) : await node.queues.receive(name, options)
        if (ctx.closing() && messages.length === 0) {
          throw new HttpError('UNAVAILABLE', 'the server is shutting down', { retryAfterSec: 1 })
        }
        return jsonReply(200, {
          messages: messages.map((m) => ({ id: m.id, receipt: m.receipt, body: m.body, receiveCount: m.receiveCount, sentAt: m.sentAt })),
        })
      },
    },
    {
      method: 'POST',
      pattern: '/v1/queues/{name}/ack',
      auth: true,
      doc: {
        summary: 'Ack one receipt ({"receipt"}) or many ({"receipts":[...]})',
        requestBody: { oneOf: [ackOneSchema, ackBatchSchema] },
        responses: {
          204: 'acked',
          404: 'QUEUE_NOT_FOUND, or RECEIPT_NOT_FOUND with "missing": exactly the receipts not found (the others are acked)',
          ...common,
        },
      },
      async handler(ctx) {
        const name = queueOf(ctx)
        const request = await ctx.readJson()
        const receipts = hasField(request, 'receipts') ? validateAckBatch(request).receipts : validateAckOne(request).receipt
        await node.queues.ack(name, receipts)
        return NO_CONTENT
      },
    },
    {
      method: 'POST',
      pattern: '/v1/queues/{name}/nack',
      auth: true,
      doc: {
        summary: 'Give a delivery back: visible again after delayMs, or dead-lettered once receiveCount >= maxReceives > 0',
        requestBody: nackSchema,
        responses: { 204: 'released', 404: 'QUEUE_NOT_FOUND or RECEIPT_NOT_FOUND', ...common },
      },
      async handler(ctx) {
        const name = queueOf(ctx)
        const { receipt, delayMs } = validateNack(await ctx.readJson())
        await node.queues.nack(name, receipt, delayMs !== undefined ? { delayMs } : {})
        return NO_CONTENT
      },
    },
    {
      method: 'POST',
      pattern: '/v1/queues/{name}/visibility',
      auth: true,
      doc: {
        summary: "Set a delivery's visibility timeout from now",
        requestBody: visibilitySchema,
        responses: { 204: 'extended', 404: 'QUEUE_NOT_FOUND or RECEIPT_NOT_FOUND', ...common },
      },
      async handler(ctx) {
        const name = queueOf(ctx)
        const { receipt, timeoutMs } = validateVisibility(await ctx.readJson())
        await node.queues.extendVisibility(name, receipt, timeoutMs)
        return NO_CONTENT
      },
    },
  ]
}

function withoutKey<T extends Record<number, string>>(record: T, key: number): Record<number, string> {
  const copy: Record<number, string> = { ...record }
  delete copy[key]
  return copy
}
