// useMessageShapes: shapes declared on the main thread before any worker
// starts go into every thread's codec table (workers take it at boot, also
// after a restart); once rings exist the table is fixed, and messages of
// any shape still cross intact.
import t from 'tap'
import { currentKernel, useMessageShapes } from '../../src/runtime/index.js'
import type { EchoMsg } from './fixtures/thread-actors.js'
import { eventually, startSystem } from './helpers.js'

const fixtures = new URL('./fixtures/thread-actors.js', import.meta.url).href

t.test('declared shapes reach every worker and its restarts; later ones are refused; every shape round-trips', async (t) => {
  t.equal(useMessageShapes([['a', 'b'], ['point', 'label']]), true, 'declared before any thread')
  t.equal(useMessageShapes([['a', 'b']]), true, 'declaring a known shape again is fine')
  t.same(currentKernel().messageShapes, [['a', 'b'], ['point', 'label']])
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const host = await system.spawnThread('shapes', { backoff: { initialMs: 0 } })
  const echo = await host.spawn<EchoMsg, unknown>({ id: 'echo', definition: { module: fixtures, export: 'echo' } })
  t.same(await echo.ask({ type: 'shapes' }), [['a', 'b'], ['point', 'label']], 'the worker has the main thread’s table')
  t.equal(useMessageShapes([['c']]), false, 'too late once a thread runs: refused')
  t.equal(useMessageShapes([['point', 'label']]), true, 'a known shape is still fine')
  t.same(currentKernel().messageShapes, [['a', 'b'], ['point', 'label']], 'the table did not change')
  const values = [
    { a: 1, b: { point: [1, 2], label: 'p' } },
    { b: 2, a: 1 },
    { c: new Uint8Array([1, 2, 3]) },
    { a: undefined, b: null },
    [{ point: 0, label: '' }, { label: 'x', point: 1 }],
  ]
  for (const value of values) t.same(await echo.ask({ type: 'echo', value }), value, `round-trip of ${JSON.stringify(value)}`)
  const before = host.threadId
  await echo.tell({ type: 'crash-thread' })
  await eventually(() => host.threadId !== undefined && host.threadId !== before, 10_000, 'a new worker')
  for (let tries = 0; ; tries++) {
    try {
      if ((await echo.ask({ type: 'echo', value: 1 }, { timeoutMs: 500 })) === 1) break
    } catch (error) {
      if (tries > 50) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  t.same(await echo.ask({ type: 'shapes' }), [['a', 'b'], ['point', 'label']], 'a restarted worker boots with the same table')
  t.same(await echo.ask({ type: 'echo', value: values[0] }), values[0])
})
