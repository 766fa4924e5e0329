// SerialQueue: the snapshot store writes files one at a time through it (and
// orders each shard's saves); a failed piece does not hold up the next.
import t from 'tap'
import { SerialQueue } from '../../src/wal/serial-queue.js'

t.test('work runs one piece after another, whatever its outcome', async (t) => {
  const queue = new SerialQueue()
  const events: string[] = []
  let running = 0
  let most = 0
  const save = (name: string, ms: number, fail = false) => async () => {
    running++
    most = Math.max(most, running)
    events.push(`start ${name}`)
    await new Promise((resolve) => setTimeout(resolve, ms))
    running--
    events.push(`end ${name}`)
    if (fail) throw new Error(`${name} failed`)
    return name
  }
  const runs = [queue.run(save('a', 30)), queue.run(save('b', 5, true)), queue.run(save('c', 10))]
  t.equal(queue.idle, false, 'busy while work is queued')
  const results = await Promise.allSettled(runs)
  t.equal(most, 1, 'never two at once')
  t.same(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a', 'b failed', 'c'],
  )
  await queue.drained()
  t.equal(queue.idle, true, 'idle once everything settled')
})
