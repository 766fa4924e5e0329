// Route matching, bearer-token checks and the error mapping, without a node.
import t from 'tap'
import { bearerAuth } from '../../src/http/bearer-auth.js'
import { HttpError, errorBody, toHttpError } from '../../src/http/http-error.js'
import { RouteMatcher } from '../../src/http/route-matcher.js'
import { jsonReply, type Route } from '../../src/http/route.js'
import { TroupeError } from '../../src/node/node-errors.js'

function route(method: Route['method'], pattern: string): Route {
  return { method, pattern, auth: true, doc: { summary: pattern, responses: { 200: 'ok' } }, handler: async () => jsonReply(200, pattern) }
}

const matcher = new RouteMatcher([
  route('GET', '/v1/queues'),
  route('GET', '/v1/queues/{name}'),
  route('PUT', '/v1/queues/{name}'),
  route('POST', '/v1/queues/{name}/ack'),
  route('GET', '/v1/kv/{key}'),
])

t.test('patterns match segments; {name} is one segment, {key} the rest', async (t) => {
  t.equal(matcher.match('GET', '/v1/queues').route.pattern, '/v1/queues')
  t.same(matcher.match('PUT', '/v1/queues/orders').params, { name: 'orders' })
  t.same(matcher.match('POST', '/v1/queues/a%20b/ack').params, { name: 'a b' })
  t.same(matcher.match('GET', '/v1/kv/a/b%2Fc').params, { key: 'a/b/c' })
  t.same(matcher.match('GET', '/v1/kv/%F0%9F%8E%AD').params, { key: '🎭' })
})

t.test('no match is 404 ROUTE_NOT_FOUND; a known path with another method is 405', async (t) => {
  for (const path of ['/', '/v1', '/v1/queues/', '/v1/queues/a/b', '/v1/queues/a/ack/x', '/v1/kv/', '/v1/kv', '//v1/queues']) {
    const error = t.throws(() => matcher.match('GET', path)) as HttpError
    t.equal(error.code, 'ROUTE_NOT_FOUND', path)
  }
  const error = t.throws(() => matcher.match('DELETE', '/v1/queues/q')) as HttpError
  t.equal(error.code, 'METHOD_NOT_ALLOWED')
  t.equal(error.status, 405)
  t.match(error.message, /GET, PUT/)
})

t.test('bad URL encoding in a parameter is 400 naming it', async (t) => {
  const error = t.throws(() => matcher.match('GET', '/v1/kv/%zz')) as HttpError
  t.same([error.code, error.details.field], ['INVALID_ARGUMENT', 'key'])
})

t.test('a duplicate route is refused at construction', async (t) => {
  t.throws(() => new RouteMatcher([route('GET', '/x'), route('GET', '/x')]), /duplicate route/)
})

t.test('bearerAuth accepts exactly the token; no token configured means open', async (t) => {
  const check = bearerAuth('abc')
  t.doesNotThrow(() => check('Bearer abc'))
  for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Bearer ab', 'Bearer abcd', 'bearer abc', 'Bearer  abc', 'abc']) {
    t.throws(() => check(header), { code: 'UNAUTHORIZED' }, String(header))
  }
  t.doesNotThrow(() => bearerAuth(undefined)(undefined))
  t.doesNotThrow(() => bearerAuth('')(undefined))
})

t.test('node errors map to the contract statuses, with missing receipts, leader hints and Retry-After', async (t) => {
  const cases: [TroupeError, number, string][] = [
    [new TroupeError('INVALID_ARGUMENT', 'x'), 400, 'INVALID_ARGUMENT'],
    [new TroupeError('QUEUE_NOT_FOUND', 'x'), 404, 'QUEUE_NOT_FOUND'],
    [new TroupeError('KEY_NOT_FOUND', 'x'), 404, 'KEY_NOT_FOUND'],
    [new TroupeError('CONFLICT', 'x'), 409, 'CONFLICT'],
    [new TroupeError('PAYLOAD_TOO_LARGE', 'x'), 413, 'PAYLOAD_TOO_LARGE'],
    [new TroupeError('QUEUE_FULL', 'x'), 503, 'QUEUE_FULL'],
    [new TroupeError('UNAVAILABLE', 'x'), 503, 'UNAVAILABLE'],
    [new TroupeError('TIMEOUT', 'x'), 504, 'TIMEOUT'],
    [new TroupeError('NOT_LEADER', 'x', { leaderId: 3 }), 503, 'UNAVAILABLE'],
    [new TroupeError('MOVED', 'x', { leaderId: 2 }), 503, 'UNAVAILABLE'],
  ]
  for (const [error, status, code] of cases) {
    const mapped = toHttpError(error)
    t.same([mapped.status, mapped.code], [status, code], error.code)
    if (status === 503) t.equal(mapped.details.retryAfterSec, 1, `${error.code} carries Retry-After`)
    if (status === 504) t.equal(mapped.details.retryAfterSec, undefined)
  }
  const missing = toHttpError(new TroupeError('RECEIPT_NOT_FOUND', 'x', { missing: ['r2'] }))
  t.same(JSON.parse(errorBody(missing)), { error: { code: 'RECEIPT_NOT_FOUND', message: 'x', missing: ['r2'] } })
  t.same(JSON.parse(errorBody(toHttpError(new TroupeError('NOT_LEADER', 'y', { leaderId: 3 })))), { error: { code: 'UNAVAILABLE', message: 'y', leader: 3 } })
  t.same(JSON.parse(errorBody(toHttpError(new TroupeError('MOVED', 'z', { leaderId: 2 })))), { error: { code: 'UNAVAILABLE', message: 'z', leader: 2 } })
  const unexpected = toHttpError(new Error('secret internals'))
  t.same([unexpected.status, unexpected.code], [500, 'INTERNAL'])
  t.notMatch(unexpected.message, /secret/, 'internal messages are not leaked')
})
