import t from 'tap'
import { EventQueue } from '../../src/sim/event-queue.js'

t.test('events come out in time order, equal times in scheduling order, and move the clock', async (t) => {
  const queue = new EventQueue<string>(100)
  queue.schedule(30, 'c')
  queue.schedule(10, 'a')
  queue.schedule(30, 'd')
  queue.schedule(10, 'b')
  queue.schedule(0, 'now')
  const seen: string[] = []
  const times: number[] = []
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) {
    seen.push(e.event)
    times.push(queue.nowMs)
  }
  t.same(seen, ['now', 'a', 'b', 'c', 'd'])
  t.same(times, [0, 10, 10, 30, 30])
})

t.test('delays count from the current virtual time', async (t) => {
  const queue = new EventQueue<string>(10)
  queue.schedule(5, 'first')
  queue.pop()
  queue.schedule(5, 'second')
  t.equal(queue.pop()!.atMs, 10)
})

t.test('a heap of many random events pops sorted', async (t) => {
  const queue = new EventQueue<number>(5000)
  let x = 7
  for (let i = 0; i < 2000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    queue.schedule(x % 1000, i)
  }
  let last = -1
  let count = 0
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) {
    if (e.atMs < last) t.fail(`out of order at ${count}`)
    last = e.atMs
    count++
  }
  t.equal(count, 2000)
})

t.test('the queue is bounded and refuses negative delays', async (t) => {
  const queue = new EventQueue<number>(2)
  queue.schedule(1, 1)
  queue.schedule(1, 2)
  t.throws(() => queue.schedule(1, 3), { code: 'SIM_QUEUE_FULL' })
  t.throws(() => queue.schedule(-1, 4), RangeError)
})
