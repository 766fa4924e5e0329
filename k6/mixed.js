// @ts-check
// Producers and consumers at once, half and half: VUS producers send one
// message per request while VUS consumers receive up to MAX (long-polling up
// to WAIT_MS) and ack. Measures sends and acknowledged deliveries per second
// under contention, and the delivery latency (sentAt to receipt) as
// `troupe_delivery_ms`: it grows when consumers fall behind.
import { receiveAndAck } from './lib/consume.js'
import { envFlag, envInt } from './lib/env.js'
import { createQueue, deleteQueue, sendOne } from './lib/queue-api.js'
import { ROUTES } from './lib/routes.js'
import { loadKnobs, loadScenario, queueForIteration, runQueues, SUMMARY_TREND_STATS, thresholds, vusKnob } from './lib/scenarios.js'

const load = loadKnobs()
const VUS = vusKnob('VUS', 10)
const MAX = envInt('MAX', 10, 1, 100)
const WAIT_MS = envInt('WAIT_MS', 1000, 0, 20_000)
const QUEUES = envInt('QUEUES', 4, 1, 1000)
const BODY_BYTES = envInt('BODY_BYTES', 100, 0, 900_000)
const P99_MS = envInt('P99_MS', 500, 1, 600_000)

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    producers: loadScenario({ exec: 'produce', vus: VUS, ...load }),
    consumers: loadScenario({ exec: 'consume', vus: VUS, ...load }),
  },
  // A receive finding the queue empty is answered after WAIT_MS by design.
  thresholds: thresholds(WAIT_MS + P99_MS, [
    [ROUTES.send, P99_MS],
    [ROUTES.receive, WAIT_MS + P99_MS],
    [ROUTES.ack, P99_MS],
    [ROUTES.ackBatch, P99_MS],
  ]),
  summaryTrendStats: SUMMARY_TREND_STATS,
}

const payload = 'x'.repeat(BODY_BYTES)

/** @typedef {{ queues: string[], owned: boolean }} RunData */

/** @returns {RunData} */
export function setup() {
  const run = runQueues('mixed', QUEUES)
  for (const queue of run.queues) createQueue(queue, {})
  return run
}

/** A producer iteration: one message. @param {RunData} data */
export function produce(data) {
  sendOne(queueForIteration(data.queues), payload)
}

/** A consumer iteration: receive up to MAX, ack them. @param {RunData} data */
export function consume(data) {
  receiveAndAck(queueForIteration(data.queues), { max: MAX, waitMs: WAIT_MS })
}

/**
 * Without scenarios (`k6 run --vus N --duration D`), each iteration is one
 * send and one receive-and-ack: still half and half.
 * @param {RunData} data
 */
export default function (data) {
  produce(data)
  consume(data)
}

/** Deletes the queues this run created (unless KEEP=1). @param {RunData} data */
export function teardown(data) {
  if (!data.owned || envFlag('KEEP')) return
  for (const queue of data.queues) deleteQueue(queue)
}
