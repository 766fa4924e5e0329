import t from 'tap'
import { createRng } from '../../src/raft/rng.js'
import { EventQueue } from '../../src/sim/event-queue.js'
import { HistoryRecorder, type KvInput, type KvOutput } from '../../src/sim/history.js'
import { defaultClientOptions, SimClient, type ClientOptions } from '../../src/sim/sim-client.js'
import type { SimEnvelope } from '../../src/sim/wire.js'

interface Sent {
  to: number
  requestId: number
  attempt: number
  atMs: number
}

function harness(options: Partial<ClientOptions> = {}) {
  const queue = new EventQueue<() => void>(10_000)
  const history = new HistoryRecorder<KvInput, KvOutput>()
  const sent: Sent[] = []
  const client = new SimClient(1, createRng(9), history, { ...defaultClientOptions, ...options }, {
    nowMs: () => queue.nowMs,
    send: (_from, to, envelope: SimEnvelope) => {
      if (envelope.kind === 'request') sent.push({ to, requestId: envelope.requestId, attempt: envelope.attempt, atMs: queue.nowMs })
    },
    after: (delayMs, _label, run) => queue.schedule(delayMs, run),
    trace: () => {},
    members: () => [1, 2, 3],
  })
  const runUntil = (done: () => boolean, eventsMax = 10_000) => {
    for (let i = 0; i < eventsMax && !done(); i++) {
      const next = queue.pop()
      if (next === undefined) return
      next.event()
    }
  }
  return { queue, history, sent, client, runUntil }
}

t.test('an answered operation is recorded with its output and the client moves on', async (t) => {
  const h = harness()
  h.client.start()
  h.runUntil(() => h.sent.length > 0)
  const first = h.sent[0]!
  h.client.receive({ kind: 'response', requestId: first.requestId, output: { kind: 'put' } })
  const ops = h.history.operations()
  t.equal(ops.length, 1)
  t.same(ops[0]!.output, { kind: 'put' })
  t.equal(h.client.stats.completed, 1)
  h.runUntil(() => h.sent.length > 1)
  t.equal(h.sent[1]!.to, first.to, 'the node that answered is the next target')
  t.not(h.sent[1]!.requestId, first.requestId)
})

t.test('a NOT_LEADER hint redirects the same request to the named leader', async (t) => {
  const h = harness()
  h.client.start()
  h.runUntil(() => h.sent.length > 0)
  const first = h.sent[0]!
  const leader = first.to === 3 ? 2 : 3
  h.client.receive({ kind: 'refused', requestId: first.requestId, attempt: first.attempt, code: 'NOT_LEADER', leaderId: leader })
  h.runUntil(() => h.sent.length > 1)
  t.equal(h.sent[1]!.to, leader)
  t.equal(h.sent[1]!.requestId, first.requestId, 'a refused request was not applied: same request id')
  t.equal(h.sent[1]!.atMs - first.atMs, defaultClientOptions.retryBackoffMs)
})

t.test('a stale answer for an earlier request is ignored', async (t) => {
  const h = harness()
  h.client.start()
  h.runUntil(() => h.sent.length > 0)
  h.client.receive({ kind: 'response', requestId: h.sent[0]!.requestId + 100, output: { kind: 'put' } })
  t.equal(h.client.stats.completed, 0)
  t.ok(h.client.busy)
})

t.test('a write that is never answered ends with unknown outcome', async (t) => {
  const h = harness({ attemptsMax: 3 })
  h.client.start()
  h.runUntil(() => h.client.stats.unknown + h.client.stats.cancelled > 0 && !h.client.busy)
  // With this seed the first operation is a write (a read would simply be dropped).
  t.equal(h.client.stats.unknown, 1)
  const unknown = h.history.operations().filter((op) => op.output === undefined)
  t.equal(unknown.length, 1)
  t.not(unknown[0]!.input.kind, 'get')
  t.equal(unknown[0]!.returnTime, undefined)
  t.equal(h.sent.length, 3, 'three attempts, each to a node')
  t.ok(h.sent[1]!.to !== h.sent[0]!.to && h.sent[2]!.to !== h.sent[1]!.to, 'each retry goes elsewhere')
})

t.test('an operation refused everywhere certainly did not happen and is dropped', async (t) => {
  const h = harness({ attemptsMax: 4 })
  h.client.start()
  for (let i = 0; i < 4; i++) {
    h.runUntil(() => h.sent.length > i)
    h.client.receive({ kind: 'refused', requestId: h.sent[i]!.requestId, attempt: h.sent[i]!.attempt, code: 'NOT_LEADER' })
  }
  h.runUntil(() => !h.client.busy || h.client.stats.cancelled > 0)
  t.equal(h.client.stats.cancelled, 1)
  t.equal(h.history.operations().length, 0)
})

t.test('a late refusal of an earlier try does not make a possibly proposed write look refused', async (t) => {
  // With this seed the first operation is a write.
  const h = harness({ attemptsMax: 3 })
  h.client.start()
  h.runUntil(() => h.sent.length > 1)
  const [first, second] = [h.sent[0]!, h.sent[1]!]
  t.equal(second.attempt, 2, 'the first try timed out')
  h.client.receive({ kind: 'refused', requestId: first.requestId, attempt: first.attempt, code: 'NOT_LEADER' })
  t.equal(h.sent.length, 2, 'a refusal of an old try starts no new one')
  h.runUntil(() => h.sent.length > 2)
  const third = h.sent[2]!
  h.client.receive({ kind: 'refused', requestId: third.requestId, attempt: third.attempt, code: 'NOT_LEADER' })
  h.runUntil(() => !h.client.busy)
  t.equal(h.client.stats.cancelled, 0)
  t.equal(h.client.stats.unknown, 1, 'the second try was never refused: it may have been applied')
})

t.test('a stopped client starts nothing new', async (t) => {
  const h = harness()
  h.client.stop()
  h.client.start()
  h.runUntil(() => false, 100)
  t.equal(h.sent.length, 0)
})
