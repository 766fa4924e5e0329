// The ack coalescer with a fake queue: which commands it makes of the acks
// of one turn, and that each caller gets the missing receipts it would have
// had acking alone.
import t from 'tap'
import { ACK_RECEIPTS_MAX } from '../../src/machines/index.js'
import { AckCoalescer } from '../../src/node/ack-coalescer.js'
import { TroupeError } from '../../src/node/node-errors.js'

/** A queue whose deliveries are `live`; an ack removes the receipts it finds and reports the others, like the machine. */
function fakeQueue(live: Iterable<string>, refuse?: () => TroupeError | undefined) {
  const deliveries = new Set(live)
  const commands: string[][] = []
  const coalescer = new AckCoalescer(async (_queue, receipts) => {
    commands.push(receipts)
    const error = refuse?.()
    if (error) throw error
    const missing: string[] = []
    for (const receipt of new Set(receipts)) if (!deliveries.delete(receipt)) missing.push(receipt)
    return { missing }
  })
  return { coalescer, commands, deliveries }
}

t.test('the acks of one turn to one queue become one command; each caller gets its own missing receipts', async (t) => {
  const { coalescer, commands, deliveries } = fakeQueue(['a', 'b', 'c', 'd'])
  const results = await Promise.all([coalescer.ack('q', ['a']), coalescer.ack('q', ['b', 'gone', 'c']), coalescer.ack('q', ['x', 'x'])])
  t.same(results, [[], ['gone'], ['x']], 'a receipt repeated in one list is reported once')
  t.same(commands, [['a', 'b', 'gone', 'c', 'x', 'x']])
  t.same([...deliveries], ['d'])
})

t.test('two callers acking the same receipt go in separate commands: the second finds it gone', async (t) => {
  const { coalescer, commands } = fakeQueue(['a', 'b'])
  const results = await Promise.all([coalescer.ack('q', ['a']), coalescer.ack('q', ['b']), coalescer.ack('q', ['a'])])
  t.same(results, [[], [], ['a']])
  t.same(commands, [['a', 'b'], ['a']])
})

t.test('a command carries at most ACK_RECEIPTS_MAX receipts', async (t) => {
  const receipts = Array.from({ length: ACK_RECEIPTS_MAX + 10 }, (_, i) => `r${i}`)
  const { coalescer, commands } = fakeQueue(receipts)
  const half = ACK_RECEIPTS_MAX / 2 + 5
  const results = await Promise.all([coalescer.ack('q', receipts.slice(0, half)), coalescer.ack('q', receipts.slice(half))])
  t.same(results, [[], []])
  t.same(
    commands.map((c) => c.length),
    [half, receipts.length - half],
  )
})

t.test('acks of other queues or later turns are other commands; a refusal goes to every caller of its command', async (t) => {
  const { coalescer, commands } = fakeQueue(['a', 'b', 'c'])
  await Promise.all([coalescer.ack('q', ['a']), coalescer.ack('r', ['b'])])
  await coalescer.ack('q', ['c'])
  t.same(commands, [['a'], ['b'], ['c']])

  const refusing = fakeQueue(['a', 'b'], () => new TroupeError('QUEUE_NOT_FOUND', "queue 'q' does not exist"))
  const outcomes = await Promise.allSettled([refusing.coalescer.ack('q', ['a']), refusing.coalescer.ack('q', ['b'])])
  const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason as TroupeError)
  t.equal(outcomes.filter((o) => o.status === 'rejected').length, 2)
  for (const reason of reasons) t.match(reason, { code: 'QUEUE_NOT_FOUND' })
  t.not(reasons[0], reasons[1])
})
