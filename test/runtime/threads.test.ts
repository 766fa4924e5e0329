import t from 'tap'
import type { ActorRef } from '../../src/runtime/actor.js'
import type { RemoteChildSpec } from '../../src/runtime/thread-host.js'
import { kernelDefaults } from '../../src/runtime/thread-kernel.js'
import type { EchoMsg } from './fixtures/thread-actors.js'
import { eventually, startSystem } from './helpers.js'

const fixtures = new URL('./fixtures/thread-actors.js', import.meta.url).href

function echoSpec(id: string, extra: Partial<RemoteChildSpec> = {}): RemoteChildSpec {
  return { id, definition: { module: fixtures, export: 'echo' }, ...extra }
}

t.test('ask and tell reach an actor on a worker thread, in order, with binary payloads intact', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const host = await system.spawnThread('worker-1')
  const echo = await host.spawn<EchoMsg, unknown>(echoSpec('echo'))
  const payload = new Uint8Array([0, 1, 2, 250, 255])
  t.same(await echo.ask({ type: 'echo', value: { big: 2 ** 40, bytes: payload, text: 'héllo' } }), {
    big: 2 ** 40,
    bytes: payload,
    text: 'héllo',
  })
  for (let n = 0; n < 5000; n++) {
    if (!echo.tell({ type: 'record', n })) await echo.send({ type: 'record', n })
  }
  const recorded = (await echo.ask({ type: 'recorded' })) as number[]
  t.equal(recorded.length, 5000)
  t.ok(recorded.every((n, i) => n === i), 'delivered in send order, none lost or repeated')
  const where = (await echo.ask({ type: 'thread' })) as { threadId: number }
  t.equal(where.threadId, host.threadId, 'the actor runs on the host’s worker')
  const metrics = (await host.metrics()).find((m) => m.name === 'echo')
  t.ok(metrics && metrics.processed >= 5003 && metrics.mailboxDepth === 0, 'the worker reports the actor’s counters')
})

t.test('actors on two workers talk to each other directly, and to the main thread', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const one = await system.spawnThread('one')
  const two = await system.spawnThread('two')
  const target = await two.spawn<EchoMsg, unknown>(echoSpec('target'))
  const forward = await one.spawn<number, unknown>({
    id: 'forward',
    definition: { module: fixtures, export: 'forwarder', args: { target: target.address } },
  })
  t.equal(await forward.ask(4), 40, 'thread one → thread two → back')
  const local = await system.spawn<EchoMsg, unknown>(() => ({ receive: (msg) => (msg.type === 'echo' ? `main:${String(msg.value)}` : null) }))
  const toMain = await one.spawn<number, unknown>({
    id: 'to-main',
    definition: { module: fixtures, export: 'forwarder', args: { target: local.address } },
  })
  t.equal(await toMain.ask(7), 'main:70', 'a worker actor asks an actor on the main thread')
})

t.test('an actor that fails on a worker is restarted there and its ref keeps working', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const host = await system.spawnThread('w', { backoff: { initialMs: 0 } })
  const echo = await host.spawn<EchoMsg, unknown>(echoSpec('echo'))
  const before = (await echo.ask({ type: 'thread' })) as { threadId: number; restartCount: number }
  await t.rejects(echo.ask({ type: 'crash' }), { code: 'ACTOR_FAILED' })
  await eventually(() => host.supervisor.whichChildren()[0]!.running)
  const after = (await echo.ask({ type: 'thread' })) as { threadId: number; restartCount: number }
  t.equal(after.threadId, before.threadId, 'same worker')
  t.equal(after.restartCount, 1)
})

for (const how of ['crashes', 'is terminated'] as const) {
  t.test(`a worker that ${how} fails its actors to the supervisor, which restarts them on a new worker`, async (t) => {
    const system = await startSystem({ root: { backoff: { initialMs: 0 } } })
    t.teardown(() => system.shutdown())
    const host = await system.spawnThread('fragile')
    const a = await host.spawn<EchoMsg, unknown>(echoSpec('a'))
    const b = await host.spawn<EchoMsg, unknown>(echoSpec('b'))
    const firstThread = host.threadId
    if (how === 'crashes') a.tell({ type: 'crash-thread' })
    else await host.terminateWorker()
    await eventually(() => host.threadId !== undefined && host.threadId !== firstThread, 10_000, 'a new worker')
    await eventually(() => host.supervisor.whichChildren().every((c) => c.running), 10_000, 'children running')
    for (const ref of [a, b] as ActorRef<EchoMsg, unknown>[]) {
      t.equal(await ref.ask({ type: 'echo', value: 'back' }), 'back', `${ref.name} answers through its old ref`)
    }
  })
}

t.test('a full mailbox on a worker pushes back to the sender on the main thread; nothing is lost', async (t) => {
  const saved = kernelDefaults.outboundFramesMax
  kernelDefaults.outboundFramesMax = 8
  t.teardown(() => void (kernelDefaults.outboundFramesMax = saved))
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const host = await system.spawnThread('slow', { ringCapacityBytes: 1024 })
  const echo = await host.spawn<EchoMsg, unknown>(echoSpec('echo', { mailbox: { capacity: 4 } }))
  echo.tell({ type: 'block', ms: 300 })
  let accepted = 0
  while (echo.tell({ type: 'record', n: accepted })) {
    accepted++
    if (accepted > 10_000) break
  }
  t.ok(accepted < 10_000, `tell returned false after ${accepted} messages: the backpressure reached the sender`)
  await echo.send({ type: 'record', n: accepted }) // waits for room instead of failing
  accepted++
  const recorded = (await echo.ask({ type: 'recorded' }, { timeoutMs: 10_000 })) as number[]
  t.same(recorded, Array.from({ length: accepted }, (_, i) => i), 'every accepted message arrived, in order')
})

t.test('a message larger than the ring crosses in pieces, in order with the messages around it', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  // Frames of at most 4,092 bytes: the payloads below cross in dozens of pieces.
  const host = await system.spawnThread('small-rings', { ringCapacityBytes: 4096 })
  const echo = await host.spawn<EchoMsg, unknown>(echoSpec('echo'))
  const sizes = [4_091, 4_092, 4_093, 10_000, 100_003]
  const payloads = sizes.map((size, i) => Uint8Array.from({ length: size }, (_, j) => (j * 31 + i) & 0xff))
  let n = 0
  const answers: Promise<unknown>[] = []
  for (const payload of payloads) {
    // Small tells before and after each large ask, all in one turn: the pieces share the ring with them.
    t.ok(echo.tell({ type: 'record', n: n++ }))
    answers.push(echo.ask({ type: 'echo', value: { payload } }))
    t.ok(echo.tell({ type: 'record', n: n++ }))
  }
  const echoed = (await Promise.all(answers)) as { payload: Uint8Array }[]
  for (let i = 0; i < sizes.length; i++) t.same(Buffer.from(echoed[i]!.payload), Buffer.from(payloads[i]!), `${sizes[i]} bytes there and back intact`)
  t.same(await echo.ask({ type: 'recorded' }), Array.from({ length: n }, (_, i) => i), 'the small messages kept their order')
  const generated = (await echo.ask({ type: 'bytes', length: 50_000, fill: 7 })) as Uint8Array
  t.equal(generated.length, 50_000)
  t.ok(generated.every((byte) => byte === 7), 'a large answer made on the worker arrives whole')
})

t.test('an answer too large to cross fails its ask with INVALID_ARGUMENT; the worker goes on', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const host = await system.spawnThread('worker-1')
  const echo = await host.spawn<EchoMsg, unknown>(echoSpec('echo'))
  const before = (await echo.ask({ type: 'thread' })) as { restartCount: number }
  await t.rejects(echo.ask({ type: 'bytes', length: kernelDefaults.messageBytesMax + 1, fill: 1 }, { timeoutMs: 30_000 }), {
    code: 'INVALID_ARGUMENT',
    message: /exceeds the .*-byte limit between threads/,
  })
  t.same(await echo.ask({ type: 'thread' }), before, 'the same actor answers, not restarted')
  t.same(await echo.ask({ type: 'echo', value: 'still here' }), 'still here')
})

t.test('a message too large to cross is refused to its sender', async (t) => {
  const saved = kernelDefaults.messageBytesMax
  kernelDefaults.messageBytesMax = 64 * 1024
  t.teardown(() => void (kernelDefaults.messageBytesMax = saved))
  const system = await startSystem()
  t.teardown(() => system.shutdown())
  const host = await system.spawnThread('worker-1', { ringCapacityBytes: 4096 })
  const echo = await host.spawn<EchoMsg, unknown>(echoSpec('echo'))
  t.throws(() => echo.tell({ type: 'echo', value: new Uint8Array(64 * 1024) }), { code: 'INVALID_ARGUMENT' })
  await t.rejects(echo.ask({ type: 'echo', value: new Uint8Array(64 * 1024) }), { code: 'INVALID_ARGUMENT' })
  t.same(await echo.ask({ type: 'echo', value: 'small' }), 'small')
})
