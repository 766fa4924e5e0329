// resolveNodeOptions: where the WAL writer runs, and a clear error for a bad value.
import t from 'tap'
import { resolveNodeOptions } from '../../src/node/node-options.js'

t.test('the WAL writer shares the shard thread when there is one, and has its own otherwise', async (t) => {
  t.equal(resolveNodeOptions({ threads: 1 }).walThread, 'shared')
  t.equal(resolveNodeOptions({ threads: 2 }).walThread, 'own')
  t.equal(resolveNodeOptions({ threads: 1, walThread: 'own' }).walThread, 'own')
  t.equal(resolveNodeOptions({ threads: 3, walThread: 'shared' }).walThread, 'shared')
})

t.test('an unknown walThread is refused with the accepted values', async (t) => {
  t.throws(() => resolveNodeOptions({ walThread: 'elsewhere' as 'own' }), { name: 'RangeError', message: /walThread must be 'own' or 'shared', got elsewhere/ })
})

t.test('writeBytesInFlightMax defaults to 64 MiB and must be a positive integer', async (t) => {
  t.equal(resolveNodeOptions({}).writeBytesInFlightMax, 64 * 1024 * 1024)
  t.equal(resolveNodeOptions({ writeBytesInFlightMax: 1000 }).writeBytesInFlightMax, 1000)
  for (const bad of [0, -1, 1.5]) t.throws(() => resolveNodeOptions({ writeBytesInFlightMax: bad }), { name: 'RangeError', message: /writeBytesInFlightMax/ })
})

t.test('snapshots by bytes: defaults and checks', async (t) => {
  t.match(resolveNodeOptions({}), { snapshotEveryBytes: 64 * 1024 * 1024, bytesKeptAfterSnapshot: 16 * 1024 * 1024 })
  t.equal(resolveNodeOptions({ bytesKeptAfterSnapshot: 0 }).bytesKeptAfterSnapshot, 0)
  t.throws(() => resolveNodeOptions({ snapshotEveryBytes: 0 }), { name: 'RangeError', message: /snapshotEveryBytes/ })
  t.throws(() => resolveNodeOptions({ bytesKeptAfterSnapshot: -1 }), { name: 'RangeError', message: /bytesKeptAfterSnapshot/ })
})

t.test('join takes a peer address as the peer transport reads one (IPv6 in brackets too), and not with a member list', async (t) => {
  t.equal(resolveNodeOptions({ join: '127.0.0.1:7282' }).join, '127.0.0.1:7282')
  t.equal(resolveNodeOptions({ join: '[::1]:7282' }).join, '[::1]:7282')
  for (const bad of ['7282', 'host:', 'host:99999', ':7282']) t.throws(() => resolveNodeOptions({ join: bad }), { name: 'RangeError', message: /join: expected host:port/ })
  t.throws(() => resolveNodeOptions({ join: '127.0.0.1:7282', cluster: '1=127.0.0.1:7282' }), { name: 'RangeError', message: /not both/ })
})
