import t from 'tap'
import type { ActorContext } from '../../src/runtime/actor.js'
import { isRuntimeError } from '../../src/runtime/errors.js'
import { delay, eventually, startSystem } from './helpers.js'

type CounterMsg = { type: 'add'; n: number } | { type: 'get' } | { type: 'boom' } | { type: 'slow'; ms: number }

function counter(log: string[] = []) {
  return (ctx: ActorContext<CounterMsg, number>) => {
    let total = 0
    log.push(`create#${ctx.restartCount}`)
    return {
      started: () => void log.push('started'),
      restarting: (error: Error | undefined) => void log.push(`restarting:${error?.message}`),
      stopping: (reason: { kind: string }) => void log.push(`stopping:${reason.kind}`),
      async receive(msg: CounterMsg): Promise<number> {
        switch (msg.type) {
          case 'add':
            total += msg.n
            return total
          case 'get':
            return total
          case 'boom':
            throw new Error('boom')
          case 'slow':
            await delay(msg.ms)
            return total
        }
      },
    }
  }
}

t.test('tell and ask deliver in order and ask returns what receive returned', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const ref = await system.spawn(counter(), { name: 'counter' })
  for (let i = 1; i <= 100; i++) t.ok(ref.tell({ type: 'add', n: i }))
  t.equal(await ref.ask({ type: 'get' }), 5050)
  t.equal(ref.name, 'counter')
})

t.test('an async receive holds the mailbox: messages are handled one at a time', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  let active = 0
  let maxActive = 0
  const ref = await system.spawn<number, number>(() => ({
    async receive(n) {
      active++
      maxActive = Math.max(maxActive, active)
      await delay(1)
      active--
      return n * 2
    },
  }))
  const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => ref.ask(n)))
  t.same(answers, [2, 4, 6, 8, 10])
  t.equal(maxActive, 1)
})

t.test('ask rejects with ASK_TIMEOUT when no answer comes in time', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const ref = await system.spawn(counter())
  await t.rejects(ref.ask({ type: 'slow', ms: 200 }, { timeoutMs: 20 }), { code: 'ASK_TIMEOUT' })
})

t.test('ask rejects with ABORTED on the signal, and a message not yet started is skipped', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const seen: number[] = []
  const ref = await system.spawn<number, void>(() => ({
    async receive(n) {
      seen.push(n)
      await delay(30)
    },
  }))
  const first = ref.ask(1)
  const controller = new AbortController()
  const second = ref.ask(2, { signal: controller.signal })
  controller.abort()
  await t.rejects(second, { code: 'ABORTED' })
  await first
  await ref.ask(3)
  t.same(seen, [1, 3], 'the aborted message was never handled')
  const aborted = AbortSignal.abort()
  await t.rejects(ref.ask(4, { signal: aborted }), { code: 'ABORTED' })
})

t.test('a full mailbox pushes back: tell false, ask MAILBOX_FULL, send waits for room', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const handled: number[] = []
  const ref = await system.spawn<number, void>(
    () => ({
      async receive(n) {
        if (n === 0) await gate
        handled.push(n)
      },
    }),
    { mailbox: { capacity: 3 } },
  )
  t.ok(ref.tell(0))
  await delay(5) // message 0 is now in hand, the mailbox is empty
  t.ok(ref.tell(1))
  t.ok(ref.tell(2))
  t.ok(ref.tell(3))
  t.notOk(ref.tell(4), 'refused when full')
  await t.rejects(ref.ask(5), { code: 'MAILBOX_FULL' })
  let sent = false
  const sending = ref.send(6).then(() => (sent = true))
  await delay(10)
  t.notOk(sent, 'send waits while the mailbox is full')
  release()
  await sending
  await eventually(() => handled.length === 5)
  t.same(handled, [0, 1, 2, 3, 6])
})

t.test('the drop-oldest policy discards the oldest queued message', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const handled: number[] = []
  const ref = await system.spawn<number, void>(
    () => ({
      async receive(n) {
        if (n === 0) await gate
        handled.push(n)
      },
    }),
    { mailbox: { capacity: 2, overflow: 'drop-oldest' } },
  )
  ref.tell(0)
  await delay(5)
  for (const n of [1, 2, 3, 4]) t.ok(ref.tell(n))
  release()
  await eventually(() => handled.length === 3)
  t.same(handled, [0, 3, 4])
  t.equal(system.metrics().find((m) => m.name === ref.name)?.dropped, 2)
})

t.test('a failing message fails only its asker and its actor; the actor restarts with its mailbox', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const log: string[] = []
  const a = await system.spawn(counter(log), { name: 'a' })
  const b = await system.spawn(counter(), { name: 'b' })
  a.tell({ type: 'add', n: 5 })
  b.tell({ type: 'add', n: 7 })
  const boom = a.ask({ type: 'boom' })
  const after = a.ask({ type: 'add', n: 1 })
  const err = await boom.catch((e: unknown) => e)
  t.ok(isRuntimeError(err, 'ACTOR_FAILED'), 'the asker of the failing message gets ACTOR_FAILED')
  t.equal(await after, 1, 'the next queued message is handled by the fresh instance (state reset)')
  t.equal(await b.ask({ type: 'get' }), 7, 'the other actor is untouched')
  t.same(log, ['create#0', 'started', 'stopping:error', 'create#1', 'restarting:boom', 'started'])
  const metrics = system.metrics().find((m) => m.name === 'a')!
  t.equal(metrics.failures, 1)
  t.equal(metrics.restarts, 1)
})

t.test('ctx.stop() ends the actor normally after the current message', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const stops: string[] = []
  const ref = await system.spawn<string, string>(
    (ctx) => ({
      receive(msg) {
        if (msg === 'quit') ctx.stop()
        return msg
      },
      stopping: (reason) => void stops.push(reason.kind),
    }),
    { restart: 'temporary' },
  )
  t.equal(await ref.ask('quit'), 'quit')
  await eventually(() => stops.length === 1)
  t.same(stops, ['normal'])
  await eventually(() => !ref.tell('late'), 2_000, 'the stopped temporary actor to refuse messages')
  await t.rejects(ref.ask('late'), { code: 'MAILBOX_FULL' })
})

t.test('shutdown rejects queued asks with ACTOR_STOPPED and refuses later messages', async (t) => {
  const system = await startSystem()
  const ref = await system.spawn(counter())
  const slow = ref.ask({ type: 'slow', ms: 30 })
  const queued = ref.ask({ type: 'get' })
  await system.shutdown()
  await slow
  await t.rejects(queued, { code: 'ACTOR_STOPPED' })
  t.notOk(ref.tell({ type: 'get' }))
  t.same(await system.terminated, { kind: 'shutdown' })
  await t.rejects(system.spawn(counter()), { code: 'SYSTEM_STOPPED' })
})

t.test('a factory that throws makes spawn reject with ACTOR_START_FAILED', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  await t.rejects(
    system.spawn(() => {
      throw new Error('no config')
    }),
    { code: 'ACTOR_START_FAILED' },
  )
})

t.test('ctx.later answers an ask without holding the mailbox; its failure fails only that ask', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const started: number[] = []
  const gates = new Map<number, () => void>()
  const ref = await system.spawn<number, number>((ctx) => ({
    receive(n) {
      started.push(n)
      if (n < 0) return ctx.later(Promise.reject(new Error('no negatives')))
      return ctx.later(new Promise<number>((resolve) => gates.set(n, () => resolve(n * 2))))
    },
  }))
  const one = ref.ask(1)
  const two = ref.ask(2)
  const bad = ref.ask(-1).catch((error: unknown) => error)
  await eventually(() => started.length === 3)
  t.same(started, [1, 2, -1], 'later messages were handled while earlier answers were pending')
  gates.get(2)!()
  gates.get(1)!()
  t.same(await Promise.all([one, two]), [2, 4])
  t.match(await bad, { message: 'no negatives' })
  t.equal(system.metrics().find((m) => m.name === ref.name)?.failures, 0, 'the actor did not crash')
})
