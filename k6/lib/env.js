// @ts-check
// Settings of the k6 scripts, read from `__ENV` (`k6 run -e NAME=value`), with
// their defaults in one place. A malformed value stops the run in the init
// context instead of quietly measuring something else.

export const DEFAULT_BASE_URL = 'http://127.0.0.1:7280'

/** The node's HTTP address without a trailing slash (`BASE_URL`). */
export function baseUrl() {
  const url = __ENV.BASE_URL === undefined || __ENV.BASE_URL === '' ? DEFAULT_BASE_URL : __ENV.BASE_URL
  if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`BASE_URL must be an http(s) URL, got '${url}'`)
  return url.replace(/\/+$/, '')
}

/** The bearer token (`TOKEN`), or undefined when the node needs none. */
export function token() {
  const value = __ENV.TOKEN
  return value === undefined || value === '' ? undefined : value
}

/**
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
export function envString(name, fallback) {
  const value = __ENV[name]
  return value === undefined || value === '' ? fallback : value
}

/**
 * An integer in [min, max].
 * @param {string} name
 * @param {number} fallback
 * @param {number} min
 * @param {number} max
 * @returns {number}
 */
export function envInt(name, fallback, min, max) {
  const raw = __ENV[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}], got '${raw}'`)
  return value
}

/**
 * A fraction in [0, 1].
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function envRatio(name, fallback) {
  const raw = __ENV[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name} must be a number in [0, 1], got '${raw}'`)
  return value
}

/**
 * A k6 duration string such as `30s`, `500ms`, `2m` or `1h30m`.
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
export function envDuration(name, fallback) {
  const value = envString(name, fallback)
  if (!/^(\d+(ms|s|m|h))+$/.test(value)) throw new Error(`${name} must be a duration like 30s, 500ms or 2m, got '${value}'`)
  return value
}

/**
 * True for `1`, `true` or `yes` (any case).
 * @param {string} name
 * @returns {boolean}
 */
export function envFlag(name) {
  return /^(1|true|yes)$/i.test(__ENV[name] ?? '')
}
