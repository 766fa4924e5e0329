import t from 'tap'
import { KV_KEY_BYTES_MAX } from '../../src/machines/index.js'
import { Harness, bytes, text } from './helpers/harness.js'

t.test('put then get returns the value and the version is the log index of the write', async (t) => {
  const h = new Harness()
  const { version } = h.ok({ type: 'kv.put', key: 'k', value: bytes('v1') })
  t.equal(version, h.index)
  const got = h.machine.kvGet('k', h.nowMs)!
  t.equal(text(got.value), 'v1')
  t.equal(got.version, version)
  t.equal(got.expiresAtMs, 0)
  t.equal(h.machine.kvGet('other', h.nowMs), undefined)
})

t.test('versions increase per key, also across delete and re-create', async (t) => {
  const h = new Harness()
  const v1 = h.ok({ type: 'kv.put', key: 'k', value: bytes('a') }).version
  h.ok({ type: 'kv.put', key: 'other', value: bytes('x') })
  const v2 = h.ok({ type: 'kv.put', key: 'k', value: bytes('b') }).version
  t.ok(v2 > v1)
  t.same(h.ok({ type: 'kv.delete', key: 'k' }), { version: v2 })
  t.equal(h.machine.kvGet('k', h.nowMs), undefined)
  const v3 = h.ok({ type: 'kv.put', key: 'k', value: bytes('c') }).version
  t.ok(v3 > v2)
})

t.test('ifVersion: a match writes, a mismatch is a CONFLICT that changes nothing, 0 means must not exist', async (t) => {
  const h = new Harness()
  t.equal(h.error({ type: 'kv.put', key: 'k', value: bytes('x'), ifVersion: 5 }).code, 'CONFLICT', 'absent key has no version 5')
  const v1 = h.ok({ type: 'kv.put', key: 'k', value: bytes('a'), ifVersion: 0 }).version
  t.equal(h.error({ type: 'kv.put', key: 'k', value: bytes('b'), ifVersion: 0 }).code, 'CONFLICT', 'create-only fails on an existing key')
  t.equal(h.error({ type: 'kv.put', key: 'k', value: bytes('b'), ifVersion: v1 + 1 }).code, 'CONFLICT')
  t.equal(text(h.machine.kvGet('k', h.nowMs)!.value), 'a')
  const v2 = h.ok({ type: 'kv.put', key: 'k', value: bytes('b'), ifVersion: v1 }).version
  t.equal(h.error({ type: 'kv.delete', key: 'k', ifVersion: v1 }).code, 'CONFLICT')
  t.same(h.ok({ type: 'kv.delete', key: 'k', ifVersion: v2 }), { version: v2 })
  t.equal(h.error({ type: 'kv.delete', key: 'k', ifVersion: 0 }).code, 'INVALID_ARGUMENT', 'delete of "must not exist" makes no sense')
})

t.test('delete of a missing key is KEY_NOT_FOUND', async (t) => {
  const h = new Harness()
  t.equal(h.error({ type: 'kv.delete', key: 'nope' }).code, 'KEY_NOT_FOUND')
})

t.test('a TTL expires the key: it reads as absent at once and a tick removes it', async (t) => {
  const h = new Harness()
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 1000 })
  t.equal(h.machine.kvGet('k', h.nowMs)!.expiresAtMs, h.nowMs + 1000)
  t.equal(h.machine.nextDueMs(), h.nowMs + 1000)
  t.ok(h.machine.kvGet('k', h.nowMs + 999))
  t.equal(h.machine.kvGet('k', h.nowMs + 1000), undefined, 'expired before any tick')
  t.equal(h.machine.kvSize, 1)
  h.advance(1000)
  t.same(h.tick(), { transitions: 1, more: false })
  t.equal(h.machine.kvSize, 0)
  t.equal(h.machine.nextDueMs(), undefined)
})

t.test('an expired key counts as absent for ifVersion and delete before a tick', async (t) => {
  const h = new Harness()
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 10 })
  h.advance(10)
  t.equal(h.error({ type: 'kv.delete', key: 'k' }).code, 'KEY_NOT_FOUND')
  h.ok({ type: 'kv.put', key: 'j', value: bytes('v'), ttlMs: 10 })
  h.advance(10)
  h.ok({ type: 'kv.put', key: 'j', value: bytes('new'), ifVersion: 0 })
  t.equal(text(h.machine.kvGet('j', h.nowMs)!.value), 'new')
})

t.test('a put without TTL clears an earlier TTL; a new TTL replaces it', async (t) => {
  const h = new Harness()
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 10 })
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v') })
  t.equal(h.machine.nextDueMs(), undefined)
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 50 })
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 20 })
  t.equal(h.machine.nextDueMs(), h.nowMs + 20)
  h.advance(20).tick()
  t.equal(h.machine.kvGet('k', h.nowMs), undefined)
})

t.test('a reader clock behind the machine time does not resurrect an expired key', async (t) => {
  const h = new Harness()
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 10 })
  h.advance(10)
  h.ok({ type: 'kv.put', key: 'other', value: bytes('v') })
  t.equal(h.machine.kvGet('k', h.nowMs - 10), undefined)
})

t.test('keys are limited to 1024 bytes of UTF-8', async (t) => {
  const h = new Harness()
  h.ok({ type: 'kv.put', key: 'a'.repeat(KV_KEY_BYTES_MAX), value: bytes('v') })
  t.equal(h.error({ type: 'kv.put', key: 'a'.repeat(KV_KEY_BYTES_MAX + 1), value: bytes('v') }).code, 'INVALID_ARGUMENT')
  t.equal(h.error({ type: 'kv.put', key: 'é'.repeat(KV_KEY_BYTES_MAX / 2 + 1), value: bytes('v') }).code, 'INVALID_ARGUMENT', 'counted in bytes, not characters')
  t.equal(h.error({ type: 'kv.put', key: '', value: bytes('v') }).code, 'INVALID_ARGUMENT')
})
