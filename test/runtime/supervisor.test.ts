import t from 'tap'
import type { ActorFactory, ActorRef } from '../../src/runtime/actor.js'
import type { SupervisorEvent, SupervisorOptions } from '../../src/runtime/supervisor.js'
import type { ChildSpec } from '../../src/runtime/system.js'
import { delay, eventually, startSystem } from './helpers.js'

type Msg = 'crash' | 'quit' | 'ping'

/** A child that records its lifecycle in `log` as `<id>:<event>`. */
function child(id: string, log: string[], options: { stoppingMs?: number } = {}): ActorFactory<Msg, string> {
  return (ctx) => {
    log.push(`${id}:start`)
    ctx.signal.addEventListener('abort', () => log.push(`${id}:signal`))
    return {
      receive(msg) {
        if (msg === 'crash') throw new Error(`${id} crashed`)
        if (msg === 'quit') ctx.stop()
        return id
      },
      async stopping(reason) {
        log.push(`${id}:stop:${reason.kind}`)
        if (options.stoppingMs) await delay(options.stoppingMs)
      },
    }
  }
}

function abc(log: string[], restart: 'permanent' | 'transient' | 'temporary' = 'permanent'): ChildSpec[] {
  return ['a', 'b', 'c'].map((id) => ({ id, actor: child(id, log), restart }))
}

async function supervised(options: SupervisorOptions<ChildSpec>, t: { teardown(fn: () => unknown): void }) {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const events: SupervisorEvent[] = []
  const sup = await system.supervise('sup', { backoff: { initialMs: 0 }, ...options, onEvent: (e) => events.push(e) })
  return { system, sup, events, ref: (id: string) => sup.child<ActorRef<Msg, string>>(id) }
}

const starts = (log: string[]) => log.filter((l) => l.endsWith(':start'))

t.test('one-for-one: only the child that crashed is restarted', async (t) => {
  const log: string[] = []
  const { ref } = await supervised({ strategy: 'one-for-one', children: abc(log) }, t)
  log.length = 0
  ref('b').tell('crash')
  await eventually(() => starts(log).length === 1)
  t.equal(await ref('b').ask('ping'), 'b')
  t.same(log, ['b:signal', 'b:stop:error', 'b:start'])
})

t.test('one-for-all: the others stop in reverse start order, then all restart in order', async (t) => {
  const log: string[] = []
  const { ref } = await supervised({ strategy: 'one-for-all', children: abc(log) }, t)
  log.length = 0
  ref('b').tell('crash')
  await eventually(() => starts(log).length === 3)
  t.same(
    log.filter((l) => !l.endsWith(':signal')),
    ['b:stop:error', 'c:stop:shutdown', 'a:stop:shutdown', 'a:start', 'b:start', 'c:start'],
  )
})

t.test('rest-for-one: the crashed child and those started after it restart; earlier ones do not', async (t) => {
  const log: string[] = []
  const { ref } = await supervised({ strategy: 'rest-for-one', children: abc(log) }, t)
  log.length = 0
  ref('b').tell('crash')
  await eventually(() => starts(log).length === 2)
  t.same(log.filter((l) => !l.endsWith(':signal')), ['b:stop:error', 'c:stop:shutdown', 'b:start', 'c:start'])
})

t.test('permanent children restart even after a normal exit', async (t) => {
  const log: string[] = []
  const { ref, sup } = await supervised({ children: abc(log, 'permanent') }, t)
  log.length = 0
  ref('a').tell('quit')
  await eventually(() => starts(log).length === 1)
  t.ok(sup.whichChildren().every((c) => c.running))
})

t.test('transient children restart after an error but not after a normal exit', async (t) => {
  const log: string[] = []
  const { ref, sup, events } = await supervised({ children: abc(log, 'transient') }, t)
  log.length = 0
  ref('a').tell('crash')
  await eventually(() => starts(log).length === 1)
  ref('b').tell('quit')
  await eventually(() => events.some((e) => e.type === 'child-exited' && e.id === 'b'))
  await delay(20)
  t.same(starts(log), ['a:start'])
  t.same(
    sup.whichChildren().map((c) => [c.id, c.running]),
    [
      ['a', true],
      ['b', false],
      ['c', true],
    ],
  )
})

t.test('temporary children are never restarted and leave the child list', async (t) => {
  const log: string[] = []
  const { ref, sup, events } = await supervised({ children: abc(log, 'temporary') }, t)
  log.length = 0
  ref('c').tell('crash')
  await eventually(() => events.some((e) => e.type === 'child-exited' && e.id === 'c'))
  await eventually(() => sup.whichChildren().length === 2)
  t.same(starts(log), [])
  t.same(
    sup.whichChildren().map((c) => c.id),
    ['a', 'b'],
  )
})

t.test('restart intensity: too many restarts stop all children in reverse order and fail to the parent', async (t) => {
  const system = await startSystem({ root: { maxRestarts: 0 } })
  const log: string[] = []
  const events: SupervisorEvent[] = []
  const sup = await system.supervise('inner', {
    maxRestarts: 2,
    withinMs: 60_000,
    backoff: { initialMs: 0 },
    children: abc(log),
    onEvent: (e) => events.push(e),
  })
  const b = sup.child<ActorRef<Msg, string>>('b')
  for (let i = 0; i < 2; i++) {
    log.length = 0
    b.tell('crash')
    await eventually(() => starts(log).length === 1)
  }
  log.length = 0
  b.tell('crash')
  const reason = await system.terminated
  t.equal(reason.kind, 'error')
  t.match(reason.kind === 'error' ? reason.error : undefined, { code: 'RESTART_INTENSITY' })
  t.ok(events.some((e) => e.type === 'intensity-exceeded'))
  t.same(log.filter((l) => l.includes(':stop:')), ['b:stop:error', 'c:stop:shutdown', 'a:stop:shutdown'])
  t.same(starts(log), [], 'nothing was restarted after the intensity was exceeded')
})

t.test('shutdown stops children in reverse start order, nested supervisors included', async (t) => {
  const system = await startSystem()
  const log: string[] = []
  await system.spawn(child('first', log), { name: 'first' })
  await system.supervise('sup', { children: [...abc(log), { id: 'nested', supervisor: { children: [{ id: 'x', actor: child('x', log) }, { id: 'y', actor: child('y', log) }] } }] })
  await system.spawn(child('last', log), { name: 'last' })
  log.length = 0
  await system.shutdown()
  t.same(
    log.filter((l) => l.includes(':stop:')).map((l) => l.split(':')[0]),
    ['last', 'y', 'x', 'c', 'b', 'a', 'first'],
  )
})

t.test('shutdown timeout: a child that does not stop in time is forced and the rest still stop', async (t) => {
  const system = await startSystem()
  const log: string[] = []
  const events: SupervisorEvent[] = []
  await system.supervise('sup', {
    onEvent: (e) => events.push(e),
    children: [
      { id: 'a', actor: child('a', log) },
      { id: 'hang', actor: child('hang', log, { stoppingMs: 1_000 }), shutdownMs: 50 },
      { id: 'c', actor: child('c', log) },
    ],
  })
  await system.shutdown()
  const stopped = events.filter((e) => e.type === 'child-stopped')
  t.same(
    stopped.map((e) => (e.type === 'child-stopped' ? [e.id, e.how] : [])),
    [
      ['c', 'graceful'],
      ['hang', 'forced'],
      ['a', 'graceful'],
    ],
  )
})

t.test('backoff: consecutive restarts wait exponentially longer, with jitter from the injected source', async (t) => {
  const log: string[] = []
  let random = 0.5 // no jitter at the midpoint
  const { ref, events } = await supervised(
    {
      maxRestarts: 10,
      backoff: { initialMs: 4, multiplier: 2, maxMs: 20, jitter: 0.5 },
      random: () => random,
      children: [{ id: 'a', actor: child('a', log) }],
    },
    t,
  )
  for (let i = 0; i < 4; i++) {
    const before = starts(log).length
    ref('a').tell('crash')
    await eventually(() => starts(log).length === before + 1)
  }
  random = 0 // the low end: delay × (1 − jitter)
  const before = starts(log).length
  ref('a').tell('crash')
  await eventually(() => starts(log).length === before + 1)
  const delays = events.flatMap((e) => (e.type === 'restart-scheduled' ? [[e.attempt, e.delayMs]] : []))
  t.same(delays, [
    [1, 4],
    [2, 8],
    [3, 16],
    [4, 20],
    [5, 10],
  ])
})

t.test('backoff delays grow by the multiplier up to maxMs, and start over once a child ran resetAfterMs', async (t) => {
  const log: string[] = []
  const { ref, events } = await supervised(
    {
      maxRestarts: 10,
      backoff: { initialMs: 2, multiplier: 3, maxMs: 20, jitter: 0, resetAfterMs: 40 },
      children: [{ id: 'a', actor: child('a', log) }],
    },
    t,
  )
  const crash = async () => {
    const before = starts(log).length
    ref('a').tell('crash')
    await eventually(() => starts(log).length === before + 1)
  }
  await crash()
  await crash()
  await crash()
  await delay(60) // ran longer than resetAfterMs
  await crash()
  const delays = events.flatMap((e) => (e.type === 'restart-scheduled' ? [[e.attempt, e.delayMs]] : []))
  t.same(delays, [
    [1, 2],
    [2, 6],
    [3, 18],
    [1, 2],
  ])
})

t.test('cancellation: every actor’s signal fires when the system stops, in nested supervisors too', async (t) => {
  const system = await startSystem()
  const aborted: string[] = []
  const watcher = (id: string): ActorFactory<'work', void> => (ctx) => {
    ctx.signal.addEventListener('abort', () => aborted.push(id))
    return {
      async receive() {
        // Long work that honours cancellation.
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()))
      },
    }
  }
  const busy = await system.spawn(watcher('busy'))
  busy.tell('work')
  await system.supervise('s', {
    children: [
      { id: 'p', actor: watcher('p') },
      { id: 'inner', supervisor: { children: [{ id: 'q', actor: watcher('q') }] } },
    ],
  })
  await delay(5)
  await system.shutdown()
  t.same(aborted.sort(), ['busy', 'p', 'q'])
})

t.test('dynamic children: start, terminate, restart, delete; ids are unique', async (t) => {
  const log: string[] = []
  const { sup } = await supervised({}, t)
  const ref = (await sup.startChild({ id: 'd', actor: child('d', log) })) as ActorRef<Msg, string>
  t.equal(await ref.ask('ping'), 'd')
  await t.rejects(sup.startChild({ id: 'd', actor: child('d', log) }), { code: 'DUPLICATE_CHILD' })
  await t.rejects(sup.deleteChild('d'), { code: 'CHILD_RUNNING' })
  await sup.terminateChild('d')
  t.same(sup.whichChildren(), [{ id: 'd', running: false, restart: 'permanent' }])
  await sup.restartChild('d')
  t.equal(await ref.ask('ping'), 'd', 'the same ref reaches the restarted child')
  await sup.terminateChild('d')
  await sup.deleteChild('d')
  t.same(sup.whichChildren(), [])
  await t.rejects(sup.terminateChild('d'), { code: 'CHILD_NOT_FOUND' })
})
