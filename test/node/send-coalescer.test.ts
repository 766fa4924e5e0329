// The send coalescer with a fake proposer: which commands it makes of the
// sends of one turn, and that each caller gets the answer it would have had
// alone (ids in order, QUEUE_FULL message by message, shared refusals).
import t from 'tap'
import type { SendMessage } from '../../src/machines/index.js'
import { TroupeError } from '../../src/node/node-errors.js'
import { COALESCED_BODY_BYTES_MAX, COALESCED_MESSAGES_MAX, SendCoalescer } from '../../src/node/send-coalescer.js'

interface Proposal {
  queue: string
  messages: SendMessage[]
}

/** A proposer that records each command and gives ids `<queue>:<command>:<position>`. */
function recorder(refuse?: (proposal: Proposal, count: number) => TroupeError | undefined) {
  const proposals: Proposal[] = []
  const coalescer = new SendCoalescer(async (queue, messages) => {
    const proposal = { queue, messages }
    proposals.push(proposal)
    const error = refuse?.(proposal, proposals.length)
    if (error) throw error
    return { ids: messages.map((_, i) => `${queue}:${proposals.length}:${i}`) }
  })
  return { proposals, coalescer }
}

const message = (text: string, bytes = text.length): SendMessage => ({ body: new Uint8Array(Buffer.from(text.padEnd(bytes, '.'))) })
const text = (m: SendMessage) => Buffer.from(m.body).toString().replace(/\.+$/, '')

t.test('the sends of one turn to one queue become one command, in the callers order', async (t) => {
  const { proposals, coalescer } = recorder()
  const ids = await Promise.all(['a', 'b', 'c'].map((x) => coalescer.send('q', message(x))))
  t.equal(proposals.length, 1)
  t.same(proposals[0]!.messages.map(text), ['a', 'b', 'c'])
  t.same(ids, ['q:1:0', 'q:1:1', 'q:1:2'])
})

t.test('each queue gets its own command; sends of a later turn another one', async (t) => {
  const { proposals, coalescer } = recorder()
  const first = await Promise.all([coalescer.send('q', message('1')), coalescer.send('r', message('2')), coalescer.send('q', message('3'))])
  t.same(first, ['q:1:0', 'r:2:0', 'q:1:1'])
  const later = await coalescer.send('q', message('4'))
  t.equal(later, 'q:3:0')
  t.same(
    proposals.map((p) => [p.queue, p.messages.map(text)]),
    [
      ['q', ['1', '3']],
      ['r', ['2']],
      ['q', ['4']],
    ],
  )
})

t.test('a group holds at most COALESCED_MESSAGES_MAX messages and COALESCED_BODY_BYTES_MAX bytes', async (t) => {
  const { proposals, coalescer } = recorder()
  const count = COALESCED_MESSAGES_MAX * 2 + 7
  const ids = await Promise.all(Array.from({ length: count }, (_, i) => coalescer.send('q', message(String(i)))))
  t.same(
    proposals.map((p) => p.messages.length),
    [COALESCED_MESSAGES_MAX, COALESCED_MESSAGES_MAX, 7],
  )
  t.same(proposals.flatMap((p) => p.messages.map(text)), Array.from({ length: count }, (_, i) => String(i)))
  t.equal(new Set(ids).size, count)

  const big = recorder()
  const third = Math.floor(COALESCED_BODY_BYTES_MAX / 3) + 1
  // Three messages just over a third of the limit: two do not fit together with a third.
  await Promise.all([
    big.coalescer.send('q', message('x', third)),
    big.coalescer.send('q', message('y', third)),
    big.coalescer.send('q', message('z', third)),
    big.coalescer.send('q', message('huge', COALESCED_BODY_BYTES_MAX + 10)),
  ])
  t.same(
    big.proposals.map((p) => p.messages.map(text)),
    [['x', 'y'], ['z'], ['huge']],
    'a message larger than the limit still goes, alone',
  )
})

t.test('QUEUE_FULL for a group: its messages are sent again one by one, and each caller gets its own answer', async (t) => {
  let room = 2
  const { proposals, coalescer } = recorder((proposal) => {
    if (proposal.messages.length > room) return new TroupeError('QUEUE_FULL', `room for ${room}`)
    room -= proposal.messages.length
    return undefined
  })
  const outcomes = await Promise.allSettled(['a', 'b', 'c', 'd'].map((x) => coalescer.send('q', message(x))))
  t.same(
    proposals.map((p) => p.messages.map(text)),
    [['a', 'b', 'c', 'd'], ['a'], ['b'], ['c'], ['d']],
  )
  t.same(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
  )
  for (const outcome of outcomes.slice(2)) t.match((outcome as PromiseRejectedResult).reason, { code: 'QUEUE_FULL' })
})

t.test('any other refusal goes to every caller of the group, each with an error of its own', async (t) => {
  const { coalescer } = recorder(() => new TroupeError('NOT_LEADER', 'node 2 leads', { leaderId: 2 }))
  const outcomes = await Promise.allSettled([coalescer.send('q', message('a')), coalescer.send('q', message('b'))])
  const reasons = outcomes.map((o) => (o as PromiseRejectedResult).reason as TroupeError)
  t.equal(outcomes.filter((o) => o.status === 'rejected').length, 2)
  for (const reason of reasons) t.match(reason, { code: 'NOT_LEADER', leaderId: 2, message: 'node 2 leads' })
  t.not(reasons[0], reasons[1])

  const failing = new SendCoalescer(async () => {
    throw new RangeError('not a TroupeError')
  })
  await t.rejects(failing.send('q', message('a')), RangeError)
})
