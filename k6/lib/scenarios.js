// @ts-check
// Load shapes and thresholds shared by the scripts, and the per-run name
// prefix. Closed loop by default (constant-vus: each VU sends its next
// request when the previous one is answered); with RATE set, open loop
// (constant-arrival-rate: iterations start on schedule whether or not the
// server keeps up, so a slow server shows as latency and dropped iterations
// instead of as a politely lower rate).
import exec from 'k6/execution'
import { envDuration, envInt, envString } from './env.js'

/** @typedef {import('k6/options').Scenario} Scenario */
/** @typedef {import('./routes.js').Route} Route */

const VUS_MAX = 10_000
const RATE_MAX = 1_000_000

/**
 * @typedef {object} LoadSpec
 * @property {string} exec the exported function each iteration runs
 * @property {number} vus VUs of a closed loop; VUs allocated up front in an open loop
 * @property {string} duration
 * @property {number} [rate] iterations per second: open loop when set
 * @property {number} [maxVus] open loop: VUs at most (default 4 × vus)
 */

/**
 * @param {LoadSpec} spec
 * @returns {Scenario}
 */
export function loadScenario(spec) {
  if (spec.rate === undefined) return { executor: 'constant-vus', exec: spec.exec, vus: spec.vus, duration: spec.duration }
  return {
    executor: 'constant-arrival-rate',
    exec: spec.exec,
    rate: spec.rate,
    timeUnit: '1s',
    duration: spec.duration,
    preAllocatedVUs: spec.vus,
    maxVUs: Math.max(spec.vus, spec.maxVus ?? spec.vus * 4),
  }
}

/**
 * The common load knobs: `DURATION` (default 30s), `RATE` (iterations/s per
 * scenario; open loop when set), `MAX_VUS`.
 * @returns {{ duration: string, rate: number | undefined, maxVus: number | undefined }}
 */
export function loadKnobs() {
  const rate = envInt('RATE', 0, 0, RATE_MAX)
  const maxVus = envInt('MAX_VUS', 0, 0, VUS_MAX)
  return { duration: envDuration('DURATION', '30s'), rate: rate === 0 ? undefined : rate, maxVus: maxVus === 0 ? undefined : maxVus }
}

/**
 * A VU count knob.
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function vusKnob(name, fallback) {
  return envInt(name, fallback, 1, VUS_MAX)
}

/**
 * The thresholds every script declares: under 1% failed requests, over 99%
 * passed checks, the overall p99; plus one p99 per route tag.
 * @param {number} overallP99Ms
 * @param {[Route, number][]} routeP99Ms
 * @returns {Record<string, string[]>}
 */
export function thresholds(overallP99Ms, routeP99Ms) {
  /** @type {Record<string, string[]>} */
  const result = {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(99)<${overallP99Ms}`],
    checks: ['rate>0.99'],
  }
  for (const [route, p99Ms] of routeP99Ms) result[`http_req_duration{name:${route.tag}}`] = [`p(99)<${p99Ms}`]
  return result
}

/**
 * A name prefix unique to this run, so runs never share queues or keys.
 * Called in setup() (once per run), never in the init context (once per VU).
 * @param {string} script
 * @returns {string}
 */
export function runPrefix(script) {
  return `k6-${script}-${Date.now().toString(36)}-${Math.floor(Math.random() * 0x100000).toString(36)}`
}

/** Trend statistics in the end-of-test summary: the tail, not only the average. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(99)', 'p(99.9)', 'max']

/**
 * The queues of a run: `QUEUE` when set (the user's own, never deleted at
 * teardown), else `count` new queues under a name prefix unique to this run.
 * @param {string} script
 * @param {number} count
 * @returns {{ queues: string[], owned: boolean }}
 */
export function runQueues(script, count) {
  const given = envString('QUEUE', '')
  if (given !== '') return { queues: [given], owned: false }
  const prefix = runPrefix(script)
  const queues = []
  for (let i = 0; i < count; i++) queues.push(`${prefix}-${i}`)
  return { queues, owned: true }
}

/**
 * The queue of this iteration: each scenario's iterations go round the
 * queues, so every queue gets producers and consumers alike whatever the VU
 * counts (VU ids are global across scenarios, so picking by VU id would not).
 * @param {string[]} queues
 * @returns {string}
 */
export function queueForIteration(queues) {
  const queue = queues[exec.scenario.iterationInTest % queues.length]
  if (queue === undefined) throw new Error('no queue to use')
  return queue
}
