// The receive coalescer with a fake queue: which commands it makes of the
// receives of one turn, and that each caller gets what it would have got
// receiving right after the caller before it.
import t from 'tap'
import { RECEIVE_MESSAGES_MAX, type ReceivedMessage } from '../../src/machines/index.js'
import { TroupeError } from '../../src/node/node-errors.js'
import { ReceiveCoalescer } from '../../src/node/receive-coalescer.js'

/** A queue of `count` messages m0, m1, ... handed out in order, like the machine's visible order. */
function fakeQueue(count: number, refuse?: () => TroupeError | undefined) {
  const waiting = Array.from({ length: count }, (_, i) => `m${i}`)
  const commands: { queue: string; max: number; visibilityTimeoutMs: number | undefined }[] = []
  const coalescer = new ReceiveCoalescer(async (queue, max, visibilityTimeoutMs) => {
    commands.push({ queue, max, visibilityTimeoutMs })
    const error = refuse?.()
    if (error) throw error
    const messages = waiting.splice(0, max).map((id) => ({ id }) as unknown as ReceivedMessage)
    return { messages }
  })
  return { coalescer, commands }
}

const ids = (messages: ReceivedMessage[]) => messages.map((m) => m.id)

t.test('the receives of one turn to one queue become one command for the sum of their max, split in order', async (t) => {
  const { coalescer, commands } = fakeQueue(20)
  const got = await Promise.all([coalescer.receive('q', 2, undefined), coalescer.receive('q', 3, undefined), coalescer.receive('q', 1, undefined)])
  t.same(got.map(ids), [['m0', 'm1'], ['m2', 'm3', 'm4'], ['m5']])
  t.same(commands, [{ queue: 'q', max: 6, visibilityTimeoutMs: undefined }])
})

t.test('when the queue runs short the first callers are served first, the last may get nothing', async (t) => {
  const { coalescer } = fakeQueue(3)
  const got = await Promise.all([coalescer.receive('q', 2, undefined), coalescer.receive('q', 2, undefined), coalescer.receive('q', 2, undefined)])
  t.same(got.map(ids), [['m0', 'm1'], ['m2'], []])
})

t.test('other queues, other visibility timeouts and later turns are other commands; a command asks for at most RECEIVE_MESSAGES_MAX', async (t) => {
  const { coalescer, commands } = fakeQueue(1000)
  await Promise.all([coalescer.receive('q', 1, undefined), coalescer.receive('r', 1, undefined), coalescer.receive('q', 1, 5_000)])
  await coalescer.receive('q', 1, undefined)
  t.same(commands, [
    { queue: 'q', max: 1, visibilityTimeoutMs: undefined },
    { queue: 'r', max: 1, visibilityTimeoutMs: undefined },
    { queue: 'q', max: 1, visibilityTimeoutMs: 5_000 },
    { queue: 'q', max: 1, visibilityTimeoutMs: undefined },
  ])
  commands.length = 0
  const half = RECEIVE_MESSAGES_MAX / 2 + 1
  const got = await Promise.all([coalescer.receive('q', half, undefined), coalescer.receive('q', half, undefined)])
  t.same(
    commands.map((c) => c.max),
    [half, half],
  )
  t.equal(new Set([...ids(got[0]!), ...ids(got[1]!)]).size, 2 * half, 'no message handed to both')
})

t.test('a refusal goes to every caller of the command, each with an error of its own', async (t) => {
  const { coalescer } = fakeQueue(5, () => new TroupeError('QUEUE_NOT_FOUND', "queue 'q' does not exist"))
  const outcomes = await Promise.allSettled([coalescer.receive('q', 1, undefined), coalescer.receive('q', 1, undefined)])
  const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason as TroupeError)
  for (const reason of reasons) t.match(reason, { code: 'QUEUE_NOT_FOUND' })
  t.not(reasons[0], reasons[1])
})
