// @ts-check
// Many consumers: setup() pre-fills the queues with PREFILL messages (in
// batches), then VUS consumers receive one message at a time and ack it, and
// BATCH_VUS consumers receive up to MAX at a time and ack them with one batch
// ack. Receives long-poll up to WAIT_MS once the queues run dry. Measures
// acknowledged deliveries per second and the latency of receive and ack.
import { receiveAndAck } from './lib/consume.js'
import { envFlag, envInt } from './lib/env.js'
import { assertBatchFits, createQueue, deleteQueue, prefill, queueStats } from './lib/queue-api.js'
import { ROUTES } from './lib/routes.js'
import { loadKnobs, loadScenario, queueForIteration, runQueues, SUMMARY_TREND_STATS, thresholds, vusKnob } from './lib/scenarios.js'

const load = loadKnobs()
const VUS = vusKnob('VUS', 20)
const BATCH_VUS = vusKnob('BATCH_VUS', 4)
const MAX = envInt('MAX', 10, 1, 100)
const WAIT_MS = envInt('WAIT_MS', 1000, 0, 20_000)
const QUEUES = envInt('QUEUES', 4, 1, 1000)
const PREFILL = envInt('PREFILL', 20_000, 0, 10_000_000)
const PREFILL_BATCH = envInt('PREFILL_BATCH', 500, 1, 1000)
const SETUP_PARALLEL = envInt('SETUP_PARALLEL', 4, 1, 64)
const VISIBILITY_MS = envInt('VISIBILITY_MS', 30_000, 1000, 43_200_000)
const BODY_BYTES = envInt('BODY_BYTES', 100, 0, 900_000)
const P99_MS = envInt('P99_MS', 500, 1, 600_000)
assertBatchFits('PREFILL_BATCH x BODY_BYTES', PREFILL_BATCH, BODY_BYTES)

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    consumers: loadScenario({ exec: 'default', vus: VUS, ...load }),
    batch_consumers: loadScenario({ exec: 'consumeBatch', vus: BATCH_VUS, ...load }),
  },
  // A receive on an empty queue is answered after WAIT_MS by design.
  thresholds: thresholds(WAIT_MS + P99_MS, [
    [ROUTES.receive, WAIT_MS + P99_MS],
    [ROUTES.ack, P99_MS],
    [ROUTES.ackBatch, P99_MS],
  ]),
  setupTimeout: '10m',
  batch: SETUP_PARALLEL,
  batchPerHost: SETUP_PARALLEL,
  summaryTrendStats: SUMMARY_TREND_STATS,
}

/** @typedef {{ queues: string[], owned: boolean }} RunData */

/** @returns {RunData} */
export function setup() {
  const run = runQueues('drain', QUEUES)
  const payload = 'x'.repeat(BODY_BYTES)
  run.queues.forEach((queue, i) => {
    createQueue(queue, { visibilityTimeoutMs: VISIBILITY_MS })
    // The first queues take the remainder, so exactly PREFILL messages are sent.
    const share = Math.floor(PREFILL / run.queues.length) + (i < PREFILL % run.queues.length ? 1 : 0)
    prefill(queue, share, PREFILL_BATCH, SETUP_PARALLEL, () => payload)
    const stats = queueStats(queue)
    if (stats !== undefined) console.log(`${queue}: ${stats['visible']} visible after pre-filling ${share}`)
  })
  return run
}

/** One consumer iteration: receive one message, ack it. @param {RunData} data */
export default function (data) {
  receiveAndAck(queueForIteration(data.queues), { max: 1, waitMs: WAIT_MS })
}

/** One batch consumer iteration: receive up to MAX, ack them in one request. @param {RunData} data */
export function consumeBatch(data) {
  receiveAndAck(queueForIteration(data.queues), { max: MAX, waitMs: WAIT_MS })
}

/** Reports what is left, then deletes the queues this run created (unless KEEP=1). @param {RunData} data */
export function teardown(data) {
  for (const queue of data.queues) {
    const stats = queueStats(queue)
    if (stats !== undefined) console.log(`${queue}: ${stats['visible']} visible, ${stats['inFlight']} in flight at the end`)
  }
  if (!data.owned || envFlag('KEEP')) return
  for (const queue of data.queues) deleteQueue(queue)
}
