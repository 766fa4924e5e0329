// @ts-check
// KV reads and writes: setup() writes KEYS keys, then VUS clients each pick a
// random key and read it (READ_RATIO of the iterations; STALE_RATIO of the
// reads with consistency=stale, the rest linearizable) or overwrite it. A
// TTL_RATIO of the writes go to fresh keys with ttlMs=TTL_MS instead, so
// expiring keys are never the ones read. Measures operations per second and
// the latency of each kind (tags kv-put, kv-put-ttl, kv-get-linearizable,
// kv-get-stale).
import exec from 'k6/execution'
import { envFlag, envInt, envRatio } from './lib/env.js'
import { kvDeleteAll, kvFill, kvGet, kvPut } from './lib/kv-api.js'
import { ROUTES } from './lib/routes.js'
import { loadKnobs, loadScenario, runPrefix, SUMMARY_TREND_STATS, thresholds, vusKnob } from './lib/scenarios.js'

const load = loadKnobs()
const VUS = vusKnob('VUS', 20)
const KEYS = envInt('KEYS', 1000, 1, 1_000_000)
const VALUE_BYTES = envInt('VALUE_BYTES', 100, 0, 1_048_576)
const READ_RATIO = envRatio('READ_RATIO', 0.8)
const STALE_RATIO = envRatio('STALE_RATIO', 0.5)
const TTL_RATIO = envRatio('TTL_RATIO', 0.1)
const TTL_MS = envInt('TTL_MS', 60_000, 1, 31_536_000_000)
const SETUP_PARALLEL = envInt('SETUP_PARALLEL', 8, 1, 64)
const P99_MS = envInt('P99_MS', 500, 1, 600_000)
const READ_P99_MS = envInt('READ_P99_MS', 250, 1, 600_000)

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    kv: loadScenario({ exec: 'default', vus: VUS, ...load }),
  },
  thresholds: thresholds(P99_MS, [
    [ROUTES.kvPut, P99_MS],
    [ROUTES.kvPutTtl, P99_MS],
    [ROUTES.kvGetLinearizable, READ_P99_MS],
    [ROUTES.kvGetStale, READ_P99_MS],
  ]),
  setupTimeout: '10m',
  teardownTimeout: '10m',
  batch: SETUP_PARALLEL,
  batchPerHost: SETUP_PARALLEL,
  summaryTrendStats: SUMMARY_TREND_STATS,
}

const value = 'v'.repeat(VALUE_BYTES)

/** @typedef {{ prefix: string }} RunData */

/**
 * @param {string} prefix
 * @param {number} index
 * @returns {string}
 */
function keyOf(prefix, index) {
  return `${prefix}/key-${index}`
}

/** @param {string} prefix @returns {string[]} */
function allKeys(prefix) {
  /** @type {string[]} */
  const keys = []
  for (let i = 0; i < KEYS; i++) keys.push(keyOf(prefix, i))
  return keys
}

/** @returns {RunData} */
export function setup() {
  const prefix = runPrefix('kv')
  kvFill(allKeys(prefix), value, SETUP_PARALLEL)
  return { prefix }
}

/** One client iteration: a read or a write. @param {RunData} data */
export default function (data) {
  const key = keyOf(data.prefix, Math.floor(Math.random() * KEYS))
  if (Math.random() < READ_RATIO) {
    kvGet(key, Math.random() < STALE_RATIO ? 'stale' : 'linearizable', VALUE_BYTES)
  } else if (Math.random() < TTL_RATIO) {
    kvPut(`${data.prefix}/ttl/${exec.vu.idInTest}-${exec.vu.iterationInScenario}`, value, TTL_MS)
  } else {
    kvPut(key, value)
  }
}

/** Deletes the keys setup() wrote (unless KEEP=1); TTL keys expire by themselves. @param {RunData} data */
export function teardown(data) {
  if (envFlag('KEEP')) return
  kvDeleteAll(allKeys(data.prefix), SETUP_PARALLEL)
}
