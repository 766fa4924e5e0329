// How the client server turns a failure into the error of an answer
// (docs/PROTOCOL.md "Errors"): the node's codes one to one, the leader's TCP
// address for NOT_LEADER and MOVED, retry hints, and INTERNAL for the rest.
import t from 'tap'
import { toWireError, RETRY_AFTER_BUSY_MS, RETRY_AFTER_UNAVAILABLE_MS } from '../../src/net/client-wire-error.js'
import { TroupeError } from '../../src/node/node-errors.js'
import type { NodeInfo } from '../../src/node/troupe-node.js'

const members: NodeInfo[] = [
  { id: 1, peer: '127.0.0.1:7282', state: 'self', tcp: '127.0.0.1:7281' },
  { id: 2, peer: '127.0.0.1:7292', state: 'up', tcp: '127.0.0.1:7291' },
  { id: 3, peer: '127.0.0.1:7302', state: 'down' },
]
const directory = () => members

t.test('NOT_LEADER and MOVED name the node to ask, with its tcp address when it announced one', async (t) => {
  t.same(toWireError(new TroupeError('NOT_LEADER', 'ask 2', { leaderId: 2 }), directory), { code: 'NOT_LEADER', message: 'ask 2', leader: { id: 2, tcp: '127.0.0.1:7291' } })
  t.same(toWireError(new TroupeError('MOVED', 'ask 2', { leaderId: 2 }), directory), { code: 'MOVED', message: 'ask 2', leader: { id: 2, tcp: '127.0.0.1:7291' } })
  t.same(toWireError(new TroupeError('MOVED', 'ask 3', { leaderId: 3 }), directory), { code: 'MOVED', message: 'ask 3', leader: { id: 3 } }, 'no tcp before node 3 announces it')
  t.same(toWireError(new TroupeError('NOT_LEADER', 'no leader known'), directory), { code: 'NOT_LEADER', message: 'no leader known' }, 'no leader field when none is known')
})

t.test('retry hints for UNAVAILABLE, RATE_LIMITED and QUEUE_FULL; missing receipts pass through', async (t) => {
  t.same(toWireError(new TroupeError('UNAVAILABLE', 'election'), directory), { code: 'UNAVAILABLE', message: 'election', retryAfterMs: RETRY_AFTER_UNAVAILABLE_MS })
  t.same(toWireError(new TroupeError('RATE_LIMITED', 'slow down'), directory), { code: 'RATE_LIMITED', message: 'slow down', retryAfterMs: RETRY_AFTER_BUSY_MS })
  t.same(toWireError(new TroupeError('QUEUE_FULL', 'full'), directory), { code: 'QUEUE_FULL', message: 'full', retryAfterMs: RETRY_AFTER_BUSY_MS })
  t.same(toWireError(new TroupeError('RECEIPT_NOT_FOUND', 'gone', { missing: ['r1'] }), directory), { code: 'RECEIPT_NOT_FOUND', message: 'gone', missing: ['r1'] })
  t.same(toWireError(new TroupeError('TIMEOUT', 'unknown outcome'), directory), { code: 'TIMEOUT', message: 'unknown outcome' })
})

t.test('anything that is not a TroupeError is INTERNAL, without its details', async (t) => {
  const wire = toWireError(new TypeError('secret internals'), directory)
  t.equal(wire.code, 'INTERNAL')
  t.notMatch(wire.message, /secret/)
  t.equal(toWireError('a string', directory).code, 'INTERNAL')
})
