// @ts-check
// One request to the Troupe HTTP API: the URL from a route, the bearer token
// when TOKEN is set, and the route's `name` tag on every request.
import http from 'k6/http'
import { baseUrl, token } from './env.js'
import { routePath } from './routes.js'

/** @typedef {import('./routes.js').Route} Route */
/** @typedef {{ name?: string, key?: string }} PathParams */

const BASE_URL = baseUrl()
const TOKEN = token()

/**
 * @param {Route} route
 * @param {PathParams} params
 * @param {string} [query] without the leading `?`
 * @returns {string}
 */
export function urlOf(route, params, query) {
  const path = routePath(route, params)
  return query === undefined || query === '' ? BASE_URL + path : `${BASE_URL}${path}?${query}`
}

/**
 * Request parameters: auth header, content type and the route's tag.
 * @param {Route} route
 * @param {string} [contentType]
 * @returns {import('k6/http').Params}
 */
export function paramsOf(route, contentType) {
  /** @type {Record<string, string>} */
  const headers = {}
  if (TOKEN !== undefined) headers['Authorization'] = `Bearer ${TOKEN}`
  if (contentType !== undefined) headers['Content-Type'] = contentType
  return { headers, tags: { name: route.tag } }
}

/**
 * Sends one request; a JSON value is serialised, a string goes as it is (raw).
 * @param {Route} route
 * @param {PathParams} params
 * @param {{ json?: unknown, raw?: string, query?: string }} [body]
 * @returns {import('k6/http').Response}
 */
export function send(route, params, body = {}) {
  const url = urlOf(route, params, body.query)
  if (body.json !== undefined) return http.request(route.method, url, JSON.stringify(body.json), paramsOf(route, 'application/json'))
  if (body.raw !== undefined) return http.request(route.method, url, body.raw, paramsOf(route, 'application/octet-stream'))
  return http.request(route.method, url, null, paramsOf(route))
}

/**
 * The same requests, sent in parallel by `http.batch` (at most k6's `batch` option at once).
 * @param {{ route: Route, params: PathParams, json?: unknown, raw?: string, query?: string }[]} requests
 * @returns {import('k6/http').Response[]}
 */
export function sendAll(requests) {
  /** @type {import('k6/http').ObjectBatchRequest[]} */
  const batch = requests.map((r) => {
    if (r.json !== undefined) return { method: r.route.method, url: urlOf(r.route, r.params, r.query), body: JSON.stringify(r.json), params: paramsOf(r.route, 'application/json') }
    if (r.raw !== undefined) return { method: r.route.method, url: urlOf(r.route, r.params, r.query), body: r.raw, params: paramsOf(r.route, 'application/octet-stream') }
    return { method: r.route.method, url: urlOf(r.route, r.params, r.query), body: null, params: paramsOf(r.route) }
  })
  return http.batch(batch)
}

/**
 * The parsed JSON body, or undefined when the body is empty or not JSON
 * (an answer's shape is judged by check(), never by an exception).
 * @param {import('k6/http').Response} response
 * @returns {unknown}
 */
export function jsonOf(response) {
  if (typeof response.body !== 'string' || response.body === '') return undefined
  try {
    return JSON.parse(response.body)
  } catch {
    return undefined
  }
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
export function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A short description of an answer for failure messages.
 * @param {import('k6/http').Response} response
 * @returns {string}
 */
export function describe(response) {
  const body = typeof response.body === 'string' ? response.body.slice(0, 300) : ''
  return `${response.request.method} ${response.url} -> ${response.status} ${response.error ?? ''} ${body}`.trim()
}
