// @ts-check
// Every HTTP route the k6 scripts call, in the OpenAPI form of src/http
// (`/v1/queues/{name}/receive`). The `tag` becomes the k6 `name` tag of the
// request, so metrics group by route and thresholds can name one route.
// This file imports nothing from k6: the test suite loads it in Node and
// checks every pattern against the server's OpenAPI document.

/**
 * @typedef {'GET' | 'PUT' | 'POST' | 'DELETE'} Method
 * @typedef {{ method: Method, pattern: string, tag: string }} Route
 */

export const ROUTES = Object.freeze({
  /** @type {Route} */
  putQueue: { method: 'PUT', pattern: '/v1/queues/{name}', tag: 'queue-put' },
  /** @type {Route} */
  getQueue: { method: 'GET', pattern: '/v1/queues/{name}', tag: 'queue-get' },
  /** @type {Route} */
  deleteQueue: { method: 'DELETE', pattern: '/v1/queues/{name}', tag: 'queue-delete' },
  /** @type {Route} */
  send: { method: 'POST', pattern: '/v1/queues/{name}/messages', tag: 'send' },
  /** @type {Route} */
  sendBatch: { method: 'POST', pattern: '/v1/queues/{name}/messages', tag: 'send-batch' },
  /** @type {Route} */
  prefill: { method: 'POST', pattern: '/v1/queues/{name}/messages', tag: 'prefill' },
  /** @type {Route} */
  receive: { method: 'POST', pattern: '/v1/queues/{name}/receive', tag: 'receive' },
  /** @type {Route} */
  ack: { method: 'POST', pattern: '/v1/queues/{name}/ack', tag: 'ack' },
  /** @type {Route} */
  ackBatch: { method: 'POST', pattern: '/v1/queues/{name}/ack', tag: 'ack-batch' },
  /** @type {Route} */
  kvPut: { method: 'PUT', pattern: '/v1/kv/{key}', tag: 'kv-put' },
  /** @type {Route} */
  kvPutTtl: { method: 'PUT', pattern: '/v1/kv/{key}', tag: 'kv-put-ttl' },
  /** @type {Route} */
  kvGetLinearizable: { method: 'GET', pattern: '/v1/kv/{key}', tag: 'kv-get-linearizable' },
  /** @type {Route} */
  kvGetStale: { method: 'GET', pattern: '/v1/kv/{key}', tag: 'kv-get-stale' },
  /** @type {Route} */
  kvDelete: { method: 'DELETE', pattern: '/v1/kv/{key}', tag: 'kv-delete' },
})

/**
 * The path of a route with its parameters URL-encoded (a key may hold `/`).
 * @param {Route} route
 * @param {{ name?: string, key?: string }} params
 * @returns {string}
 */
export function routePath(route, params) {
  return route.pattern.replace(/\{(name|key)\}/g, (_, param) => {
    const value = param === 'name' ? params.name : params.key
    if (value === undefined) throw new Error(`${route.method} ${route.pattern} needs '${param}'`)
    return encodeURIComponent(value)
  })
}
