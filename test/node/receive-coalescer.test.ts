// The receive coalescer with a fake queue: which commands it makes of the
// receives of one turn, and that each caller gets what it would have got
// receiving right after the caller before it.
import t from 'tap'
import { RECEIVE_BYTES_MAX, RECEIVE_MESSAGES_MAX, type ReceivedMessage } from '../../src/machines/index.js'
import { TroupeError } from '../../src/node/node-errors.js'
import { ReceiveCoalescer } from '../../src/node/receive-coalescer.js'

/**
 * A queue of `count` messages m0, m1, ... of `bodyBytes` each, handed out in
 * order like the machine's visible order, and like it stopping before the
 * bodies pass RECEIVE_BYTES_MAX (always one).
 */
function fakeQueue(count: number, refuse?: () => TroupeError | undefined, bodyBytes = 10) {
  const waiting = Array.from({ length: count }, (_, i) => `m${i}`)
  const commands: { queue: string; max: number; visibilityTimeoutMs: number | undefined }[] = []
  const coalescer = new ReceiveCoalescer(async (queue, max, visibilityTimeoutMs) => {
    commands.push({ queue, max, visibilityTimeoutMs })
    const error = refuse?.()
    if (error) throw error
    const fit = Math.max(1, Math.floor(RECEIVE_BYTES_MAX / bodyBytes))
    const messages = waiting.splice(0, Math.min(max, fit)).map((id) => ({ id, body: new Uint8Array(bodyBytes) }) as unknown as ReceivedMessage)
    return fit < max && waiting.length > 0 ? { messages, full: true as const } : { messages }
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

t.test('callers left with nothing because the answer reached 10 MiB of bodies receive again', async (t) => {
  const { coalescer, commands } = fakeQueue(25, undefined, 1_000_000)
  const got = await Promise.all([4, 8, 5, 10].map((max) => coalescer.receive('q', max, undefined)))
  t.same(
    got.map((messages) => messages.length),
    [4, 6, 5, 5],
    'ten bodies of 1 MB per answer: the first two callers share the first, the other two the next',
  )
  t.same(
    commands.map((c) => c.max),
    [27, 15],
    'the second command is for the callers left with nothing',
  )
  t.same(got.flatMap(ids), Array.from({ length: 20 }, (_, i) => `m${i}`), 'in order, none twice')
  const short = fakeQueue(3, undefined, 1_000_000)
  const few = await Promise.all([2, 2, 2].map((max) => short.coalescer.receive('q', max, undefined)))
  t.same(few.map((messages) => messages.length), [2, 1, 0], 'a queue that ran short (3 MB, far from the budget) is not asked again')
  t.equal(short.commands.length, 1)
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
