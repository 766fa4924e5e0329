import t from 'tap'
import { decodeKvCommand, encodeKvCommand, SimKvMachine, type KvCommand } from '../../src/sim/kv-machine.js'

const cmd = (clientId: number, requestId: number, input: KvCommand['input']): KvCommand => ({ clientId, requestId, input })

t.test('writes get the log index as version; cas and delete follow it', async (t) => {
  const m = new SimKvMachine()
  m.skip(1)
  t.same(m.apply(2, cmd(1, 1, { kind: 'put', key: 'k', value: 'a' })), { kind: 'put', version: 2 })
  t.same(m.read('k'), { kind: 'get', value: 'a', version: 2 })
  t.same(m.apply(3, cmd(1, 2, { kind: 'cas', key: 'k', expectedVersion: 1, value: 'b' })), { kind: 'cas', ok: false })
  t.same(m.apply(4, cmd(1, 3, { kind: 'cas', key: 'k', expectedVersion: 2, value: 'b' })), { kind: 'cas', ok: true, version: 4 })
  t.same(m.apply(5, cmd(1, 4, { kind: 'get', key: 'k' })), { kind: 'get', value: 'b', version: 4 })
  t.same(m.apply(6, cmd(1, 5, { kind: 'delete', key: 'k', expectedVersion: 2 })), { kind: 'delete', existed: true, conflict: true })
  t.same(m.apply(7, cmd(1, 6, { kind: 'delete', key: 'k' })), { kind: 'delete', existed: true, version: 4 })
  t.same(m.apply(8, cmd(1, 7, { kind: 'delete', key: 'k' })), { kind: 'delete', existed: false })
  t.same(m.read('k'), { kind: 'get', value: null })
  t.same(m.apply(9, cmd(1, 8, { kind: 'cas', key: 'k', expectedVersion: 0, value: 'c' })), { kind: 'cas', ok: true, version: 9 }, 'version 0 creates')
  t.equal(m.appliedIndex, 9)
})

t.test('a duplicated request applies once and answers the remembered output', async (t) => {
  const m = new SimKvMachine()
  t.same(m.apply(1, cmd(7, 10, { kind: 'put', key: 'k', value: 'a' })), { kind: 'put', version: 1 })
  t.same(m.apply(2, cmd(7, 10, { kind: 'put', key: 'k', value: 'a' })), { kind: 'put', version: 1 })
  t.same(m.read('k'), { kind: 'get', value: 'a', version: 1 })
  t.same(m.apply(3, cmd(7, 11, { kind: 'put', key: 'k', value: 'b' })), { kind: 'put', version: 3 })
  t.equal(m.apply(4, cmd(7, 10, { kind: 'put', key: 'k', value: 'a' })), null, 'an older request is not applied')
  t.same(m.read('k'), { kind: 'get', value: 'b', version: 3 })
})

t.test('a snapshot restores the data and the sessions', async (t) => {
  const m = new SimKvMachine()
  m.apply(1, cmd(1, 5, { kind: 'put', key: 'x', value: '1' }))
  m.apply(2, cmd(2, 9, { kind: 'put', key: 'y', value: '2' }))
  const copy = new SimKvMachine()
  copy.restore(2, m.snapshot())
  t.equal(copy.appliedIndex, 2)
  t.same(copy.read('y'), { kind: 'get', value: '2', version: 2 })
  t.same(copy.apply(3, cmd(2, 9, { kind: 'put', key: 'y', value: '2' })), { kind: 'put', version: 2 }, 'session survived')
  t.throws(() => copy.restore(5, m.snapshot()), /restored as 5/)
  const fresh = new SimKvMachine()
  fresh.restore(1, new Uint8Array(0))
  t.equal(fresh.appliedIndex, 1)
  t.same(fresh.read('x'), { kind: 'get', value: null })
})

t.test('indexes must be applied in order', async (t) => {
  const m = new SimKvMachine()
  t.throws(() => m.apply(2, cmd(1, 1, { kind: 'get', key: 'k' })), /apply index 2 after 0/)
  t.throws(() => m.skip(3), /skip index 3 after 0/)
})

t.test('commands survive encoding', async (t) => {
  const c = cmd(3, 4, { kind: 'cas', key: 'k', expectedVersion: 9, value: 'v' })
  t.same(decodeKvCommand(encodeKvCommand(c)), c)
})
