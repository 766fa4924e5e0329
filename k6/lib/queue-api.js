// @ts-check
// Queue operations of CONTRACT §4, each answer checked with check(): status
// and body shape. A check name starts with the route's tag, so the summary
// groups by route.
import { check, fail } from 'k6'
import { describe, isObject, jsonOf, send, sendAll } from './client.js'
import { ROUTES } from './routes.js'

/**
 * @typedef {{ id: string, receipt: string, body: unknown, receiveCount: number, sentAt: number }} ReceivedMessage
 * @typedef {{ visibilityTimeoutMs?: number, maxReceives?: number, maxMessages?: number, delayMs?: number, retentionMs?: number }} QueueConfig
 */

/** CONTRACT §3: a request carries at most 10 MiB. */
const REQUEST_BYTES_MAX = 10 * 1024 * 1024
/** The JSON around each body of a batch: `{"body":"..."},`. */
const BATCH_ITEM_OVERHEAD_BYTES = 12

/**
 * Stops the run in the init context when the knobs would make batch requests
 * the node must refuse (413), instead of measuring refusals.
 * @param {string} knobs the settings involved, for the message
 * @param {number} count messages per batch
 * @param {number} bodyBytes bytes of each (string) body
 */
export function assertBatchFits(knobs, count, bodyBytes) {
  const bytes = count * (bodyBytes + BATCH_ITEM_OVERHEAD_BYTES)
  if (bytes > REQUEST_BYTES_MAX) throw new Error(`${knobs}: ${count} messages of ${bodyBytes} bytes make a ${bytes}-byte request, over the ${REQUEST_BYTES_MAX}-byte limit`)
}

/**
 * Creates the queue, or updates it when it exists (200); stops the run when that fails.
 * @param {string} name
 * @param {QueueConfig} config
 */
export function createQueue(name, config) {
  const response = send(ROUTES.putQueue, { name }, { json: config })
  const ok = check(response, {
    'queue-put: status 201 or 200': (r) => r.status === 201 || r.status === 200,
    'queue-put: body names the queue': (r) => {
      const body = jsonOf(r)
      return isObject(body) && body['name'] === name && isObject(body['config'])
    },
  })
  if (!ok) fail(`could not create queue '${name}': ${describe(response)}`)
}

/**
 * The queue's stats (`visible`, `inFlight`, `delayed`, `total`), or undefined when the answer is wrong.
 * @param {string} name
 * @returns {Record<string, number> | undefined}
 */
export function queueStats(name) {
  const response = send(ROUTES.getQueue, { name })
  const body = jsonOf(response)
  const stats = isObject(body) && isObject(body['stats']) ? body['stats'] : undefined
  const ok = check(response, {
    'queue-get: status 200': (r) => r.status === 200,
    'queue-get: stats are counts': () => stats !== undefined && ['visible', 'inFlight', 'delayed', 'total'].every((field) => Number.isSafeInteger(stats[field])),
  })
  return ok && stats !== undefined ? /** @type {Record<string, number>} */ (stats) : undefined
}

/**
 * @param {string} name
 * @returns {boolean} true when the queue was deleted
 */
export function deleteQueue(name) {
  return check(send(ROUTES.deleteQueue, { name }), { 'queue-delete: status 204': (r) => r.status === 204 })
}

/**
 * Sends one message.
 * @param {string} queue
 * @param {unknown} body
 * @param {string} [dedupId] a send repeated with it adds the message once
 * @returns {string | undefined} its id
 */
export function sendOne(queue, body, dedupId) {
  const response = send(ROUTES.send, { name: queue }, { json: dedupId === undefined ? { body } : { body, dedupId } })
  const answer = jsonOf(response)
  const id = isObject(answer) && typeof answer['id'] === 'string' ? answer['id'] : undefined
  check(response, {
    'send: status 201': (r) => r.status === 201,
    'send: body has an id': () => id !== undefined && id !== '',
  })
  return id
}

/**
 * Sends a batch (all or nothing).
 * @param {string} queue
 * @param {unknown[]} bodies 1 to 1000
 * @param {string[]} [dedupIds] one per body
 * @returns {number} messages sent: the batch size, or 0 when the answer is wrong
 */
export function sendBatch(queue, bodies, dedupIds) {
  const messages = bodies.map((body, i) => (dedupIds === undefined ? { body } : { body, dedupId: dedupIds[i] }))
  const response = send(ROUTES.sendBatch, { name: queue }, { json: { messages } })
  return checkBatchAnswer(response, bodies.length, ROUTES.sendBatch.tag)
}

/**
 * Fills a queue with `total` messages in batches, `parallel` batches at a time
 * (setup() of drain and mixed). Stops the run when a batch fails.
 * @param {string} queue
 * @param {number} total
 * @param {number} batchSize 1 to 1000
 * @param {number} parallel
 * @param {(index: number) => unknown} bodyOf
 */
export function prefill(queue, total, batchSize, parallel, bodyOf) {
  let sent = 0
  while (sent < total) {
    /** @type {{ route: import('./routes.js').Route, params: { name: string }, json: unknown }[]} */
    const requests = []
    /** @type {number[]} */
    const counts = []
    for (let i = 0; i < parallel && sent < total; i++) {
      const count = Math.min(batchSize, total - sent)
      const messages = []
      for (let j = 0; j < count; j++) messages.push({ body: bodyOf(sent + j) })
      requests.push({ route: ROUTES.prefill, params: { name: queue }, json: { messages } })
      counts.push(count)
      sent += count
    }
    const responses = sendAll(requests)
    responses.forEach((response, i) => {
      if (checkBatchAnswer(response, counts[i] ?? 0, ROUTES.prefill.tag) === 0) fail(`pre-filling '${queue}' failed: ${describe(response)}`)
    })
  }
}

/**
 * @param {import('k6/http').Response} response
 * @param {number} expected
 * @param {string} tag
 * @returns {number}
 */
function checkBatchAnswer(response, expected, tag) {
  const answer = jsonOf(response)
  const ids = isObject(answer) && Array.isArray(answer['ids']) ? answer['ids'] : undefined
  const ok = check(response, {
    [`${tag}: status 201`]: (r) => r.status === 201,
    [`${tag}: one id per message`]: () => ids !== undefined && ids.length === expected && ids.every((id) => typeof id === 'string' && id !== ''),
  })
  return ok ? expected : 0
}

/**
 * Receives up to `max` messages, long-polling up to `waitMs` when the queue is empty.
 * @param {string} queue
 * @param {{ max: number, waitMs: number, visibilityTimeoutMs?: number }} options
 * @returns {ReceivedMessage[]} the well-formed messages ([] when the answer is wrong)
 */
export function receive(queue, options) {
  const response = send(ROUTES.receive, { name: queue }, { json: options })
  const answer = jsonOf(response)
  const messages = isObject(answer) && Array.isArray(answer['messages']) ? answer['messages'] : undefined
  const ok = check(response, {
    'receive: status 200': (r) => r.status === 200,
    'receive: at most max messages': () => messages !== undefined && messages.length <= options.max,
    'receive: messages are well-formed': () => messages !== undefined && messages.every(isReceivedMessage),
  })
  return ok && messages !== undefined ? messages.filter(isReceivedMessage) : []
}

/**
 * @param {unknown} value
 * @returns {value is ReceivedMessage}
 */
function isReceivedMessage(value) {
  return (
    isObject(value) &&
    typeof value['id'] === 'string' &&
    typeof value['receipt'] === 'string' &&
    'body' in value &&
    typeof value['receiveCount'] === 'number' &&
    value['receiveCount'] >= 1 &&
    typeof value['sentAt'] === 'number'
  )
}

/**
 * Acks one delivery.
 * @param {string} queue
 * @param {string} receipt
 * @returns {boolean}
 */
export function ackOne(queue, receipt) {
  return check(send(ROUTES.ack, { name: queue }, { json: { receipt } }), { 'ack: status 204': (r) => r.status === 204 })
}

/**
 * Acks many deliveries in one request (204 only when every receipt was found).
 * @param {string} queue
 * @param {string[]} receipts 1 to 1000
 * @returns {boolean}
 */
export function ackBatch(queue, receipts) {
  return check(send(ROUTES.ackBatch, { name: queue }, { json: { receipts } }), { 'ack-batch: status 204': (r) => r.status === 204 })
}
