// @ts-check
// KV operations of CONTRACT §4 (raw values, the version in X-Version), each
// answer checked with check(). Check names start with the route's tag.
import { check, fail } from 'k6'
import { describe, isObject, jsonOf, send, sendAll } from './client.js'
import { ROUTES } from './routes.js'

/** @typedef {import('./routes.js').Route} Route */

/**
 * Writes a value.
 * @param {string} key
 * @param {string} value
 * @param {number} [ttlMs] expiry; absent or 0 = none
 * @returns {number | undefined} the new version
 */
export function kvPut(key, value, ttlMs) {
  const route = ttlMs === undefined || ttlMs === 0 ? ROUTES.kvPut : ROUTES.kvPutTtl
  const response = send(route, { key }, { raw: value, ...(route === ROUTES.kvPutTtl ? { query: `ttlMs=${ttlMs}` } : {}) })
  const version = versionOf(response)
  check(response, {
    [`${route.tag}: status 200`]: (r) => r.status === 200,
    [`${route.tag}: body has a version`]: () => version !== undefined,
  })
  return version
}

/**
 * Reads a value and checks it is the expected size with a version.
 * @param {string} key
 * @param {'linearizable' | 'stale'} consistency
 * @param {number} valueBytes the size every value of this run has
 * @returns {boolean}
 */
export function kvGet(key, consistency, valueBytes) {
  const route = consistency === 'linearizable' ? ROUTES.kvGetLinearizable : ROUTES.kvGetStale
  return check(send(route, { key }, { query: `consistency=${consistency}` }), {
    [`${route.tag}: status 200`]: (r) => r.status === 200,
    [`${route.tag}: X-Version is a version`]: (r) => isVersion(Number(r.headers['X-Version'])),
    [`${route.tag}: value has its size`]: (r) => typeof r.body === 'string' && r.body.length === valueBytes,
  })
}

/**
 * Writes every key (setup), `parallel` at a time; stops the run when one fails.
 * @param {string[]} keys
 * @param {string} value
 * @param {number} parallel
 */
export function kvFill(keys, value, parallel) {
  for (let start = 0; start < keys.length; start += parallel) {
    const slice = keys.slice(start, start + parallel)
    const responses = sendAll(slice.map((key) => ({ route: ROUTES.kvPut, params: { key }, raw: value })))
    responses.forEach((response) => {
      const ok = check(response, {
        'kv-put: status 200': (r) => r.status === 200,
        'kv-put: body has a version': (r) => versionOf(r) !== undefined,
      })
      if (!ok) fail(`writing the initial keys failed: ${describe(response)}`)
    })
  }
}

/**
 * Deletes every key (teardown), `parallel` at a time.
 * @param {string[]} keys
 * @param {number} parallel
 * @returns {number} keys deleted
 */
export function kvDeleteAll(keys, parallel) {
  let deleted = 0
  for (let start = 0; start < keys.length; start += parallel) {
    const responses = sendAll(keys.slice(start, start + parallel).map((key) => ({ route: ROUTES.kvDelete, params: { key } })))
    for (const response of responses) {
      if (check(response, { 'kv-delete: status 204': (r) => r.status === 204 })) deleted++
    }
  }
  return deleted
}

/**
 * @param {import('k6/http').Response} response
 * @returns {number | undefined}
 */
function versionOf(response) {
  const body = jsonOf(response)
  const version = isObject(body) ? body['version'] : undefined
  return typeof version === 'number' && isVersion(version) ? version : undefined
}

/**
 * @param {number} value
 * @returns {boolean}
 */
function isVersion(value) {
  return Number.isSafeInteger(value) && value > 0
}
