// @ts-check
// One consumer step shared by drain.js and mixed.js: receive (long-polling
// when the queue is empty), then ack what arrived: one receipt alone, several
// in one batch ack.
import { Counter, Trend } from 'k6/metrics'
import { ackBatch, ackOne, receive } from './queue-api.js'

const messagesReceived = new Counter('troupe_messages_received')
const messagesAcked = new Counter('troupe_messages_acked')
const emptyReceives = new Counter('troupe_empty_receives')
// sentAt is the server's clock and Date.now() the load generator's: meaningful
// when both run on one machine (or with synchronised clocks).
const deliveryMs = new Trend('troupe_delivery_ms', true)

/**
 * @param {string} queue
 * @param {{ max: number, waitMs: number }} options
 * @returns {number} messages acked
 */
export function receiveAndAck(queue, options) {
  const messages = receive(queue, options)
  if (messages.length === 0) {
    emptyReceives.add(1)
    return 0
  }
  const now = Date.now()
  for (const message of messages) deliveryMs.add(Math.max(0, now - message.sentAt))
  messagesReceived.add(messages.length)
  const first = messages[0]
  const acked = messages.length === 1 && first !== undefined ? ackOne(queue, first.receipt) : ackBatch(queue, messages.map((m) => m.receipt))
  if (acked) messagesAcked.add(messages.length)
  return acked ? messages.length : 0
}
