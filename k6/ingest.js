// @ts-check
// Many producers: VUS send one message per request, BATCH_VUS send batches
// of BATCH messages. Measures the rate of acknowledged (committed) sends and
// their latency; with the node's default `--sync always`, each answer waits
// for an fdatasync. See README.md for the knobs.
import exec from 'k6/execution'
import { Counter } from 'k6/metrics'
import { envFlag, envInt } from './lib/env.js'
import { assertBatchFits, createQueue, deleteQueue, sendBatch, sendOne } from './lib/queue-api.js'
import { ROUTES } from './lib/routes.js'
import { loadKnobs, loadScenario, queueForIteration, runPrefix, runQueues, SUMMARY_TREND_STATS, thresholds, vusKnob } from './lib/scenarios.js'

const load = loadKnobs()
const VUS = vusKnob('VUS', 20)
const BATCH_VUS = vusKnob('BATCH_VUS', 4)
const BATCH = envInt('BATCH', 100, 1, 1000)
const QUEUES = envInt('QUEUES', 4, 1, 1000)
const BODY_BYTES = envInt('BODY_BYTES', 100, 0, 900_000)
const P99_MS = envInt('P99_MS', 500, 1, 600_000)
// Every message carries a dedupId unique in the run: a node may then run a
// send again on the next leader when the leader dies, instead of 504.
const DEDUP = envFlag('DEDUP')
assertBatchFits('BATCH x BODY_BYTES', BATCH, BODY_BYTES)

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    singles: loadScenario({ exec: 'default', vus: VUS, ...load }),
    batches: loadScenario({ exec: 'produceBatch', vus: BATCH_VUS, ...load }),
  },
  thresholds: thresholds(2 * P99_MS, [
    [ROUTES.send, P99_MS],
    [ROUTES.sendBatch, 2 * P99_MS],
  ]),
  summaryTrendStats: SUMMARY_TREND_STATS,
}

const messagesSent = new Counter('troupe_messages_sent')
const payload = 'x'.repeat(BODY_BYTES)

/** @typedef {{ queues: string[], owned: boolean, dedupPrefix: string }} RunData */

/** @returns {RunData} */
export function setup() {
  const run = runQueues('ingest', QUEUES)
  for (const queue of run.queues) createQueue(queue, {})
  return { ...run, dedupPrefix: runPrefix('ingest') }
}

/** With DEDUP=1, a dedupId unique in the run for this iteration. @param {RunData} data */
function iterationDedupId(data) {
  return DEDUP ? `${data.dedupPrefix}-${exec.scenario.name}-${exec.vu.idInTest}-${exec.vu.iterationInScenario}` : undefined
}

/** One producer iteration: one message. @param {RunData} data */
export default function (data) {
  if (sendOne(queueForIteration(data.queues), payload, iterationDedupId(data)) !== undefined) messagesSent.add(1)
}

/** One batch producer iteration: BATCH messages in one request. @param {RunData} data */
export function produceBatch(data) {
  /** @type {string[]} */
  const bodies = []
  for (let i = 0; i < BATCH; i++) bodies.push(payload)
  const dedupId = iterationDedupId(data)
  messagesSent.add(sendBatch(queueForIteration(data.queues), bodies, dedupId === undefined ? undefined : bodies.map((_, i) => `${dedupId}-${i}`)))
}

/** Deletes the queues this run created (KEEP=1 keeps them for inspection). @param {RunData} data */
export function teardown(data) {
  if (!data.owned || envFlag('KEEP')) return
  for (const queue of data.queues) deleteQueue(queue)
}
