// bench/lib/closed-loop.ts, the loop of the queue and kv benches: counts the
// operations each call reports, and the process's CPU per operation.
import t from 'tap'
import { closedLoop } from '../../bench/lib/closed-loop.js'

function spin(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until);
}

t.test('a batch counts as the operations it reports; CPU per operation follows the work done', async (t) => {
  const busy = await closedLoop(2, 300, async () => {
    await new Promise((resolve) => setImmediate(resolve))
    spin(20)
    return 10
  }, 50)
  t.equal(busy.errors, 0)
  t.ok(busy.operations > 0 && busy.operations % 10 === 0, `${busy.operations} operations, in tens`)
  // 20 ms of spinning per 10 operations is 2,000 µs of CPU each, and a little more for the rest.
  t.ok(busy.cpuUsPerOp >= 1500, `busy: ${busy.cpuUsPerOp} µs of CPU per operation`)

  const idle = await closedLoop(2, 300, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return 1
  }, 50)
  t.ok(idle.operations > 0)
  t.ok(idle.cpuUsPerOp < busy.cpuUsPerOp, `waiting: ${idle.cpuUsPerOp} µs against ${busy.cpuUsPerOp} µs`)
})

t.test('no operation in the window reports zero CPU per operation, not a division by zero', async (t) => {
  const none = await closedLoop(1, 50, async () => 0, 10)
  t.equal(none.operations, 0)
  t.equal(none.cpuUsPerOp, 0)
})
