// Doorbell: one consumer thread sleeps on one word for many inbound rings, and
// never misses a wake-up, including when it goes to sleep at the very moment a
// producer publishes.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { Doorbell } from '../../src/runtime/doorbell.js'
import { SpscRing } from '../../src/runtime/ring.js'
import type { EchoData } from './fixtures/ring-echo.js'
import { FIXTURE_READY, frameBytes, updateChecksum, type RingPlan, type RingRunResult } from './fixtures/ring-frames.js'

// Test-only knowledge of doorbell.ts's layout: the sequence word is Int32 index 16.
const SEQUENCE_WORD = 16

/** A worker's messages in order, one promise per message. */
function workerMessages(worker: Worker): { next(): Promise<unknown> } {
  const queued: unknown[] = []
  const waiting: ((message: unknown) => void)[] = []
  worker.on('message', (message: unknown) => {
    const resolve = waiting.shift()
    if (resolve !== undefined) resolve(message)
    else queued.push(message)
  })
  return {
    next: () => (queued.length > 0 ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve))),
  }
}

/** Aborts when `progress()` has not changed for `stallMs`: a lost wake-up shows as a stall, not a hung test. */
function watchdog(progress: () => number, stallMs: number): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController()
  let last = progress()
  let stalledMs = 0
  const checkEveryMs = 250
  const timer = setInterval(() => {
    const now = progress()
    stalledMs = now === last ? stalledMs + checkEveryMs : 0
    last = now
    if (stalledMs >= stallMs) controller.abort()
  }, checkEveryMs)
  return { signal: controller.signal, stop: () => clearInterval(timer) }
}

t.test('sleep reports work, rings, wakes, timeouts and aborts', async (t) => {
  const bell = Doorbell.create()
  const producerSide = Doorbell.attach(bell.buffer)
  t.equal(await bell.sleep(() => true), 'work', 'does not sleep when there is work')
  t.equal(await bell.sleep(() => false, { timeoutMs: 10 }), 'timed-out')
  // The timeouts only turn a lost wake-up into a failure instead of a hang.
  setImmediate(() => producerSide.ring())
  t.equal(await bell.sleep(() => false, { timeoutMs: 5000 }), 'rung')
  setImmediate(() => producerSide.wake())
  t.equal(await bell.sleep(() => false, { timeoutMs: 5000 }), 'rung', 'wake() wakes too')
  const controller = new AbortController()
  setImmediate(() => controller.abort())
  t.equal(await bell.sleep(() => false, { signal: controller.signal }), 'aborted')
  const first = bell.sleep(() => false, { timeoutMs: 50 })
  await t.rejects(bell.sleep(() => false), { code: 'DOORBELL_ALREADY_SLEEPING' })
  t.equal(await first, 'timed-out')
})

t.test('attach refuses buffers that are not doorbells', async (t) => {
  t.throws(() => Doorbell.attach(new SharedArrayBuffer(192)), { code: 'RING_INVALID_BUFFER' })
  t.throws(() => Doorbell.attach(new SharedArrayBuffer(16)), { code: 'RING_INVALID_BUFFER' })
})

t.test('ringing an awake consumer costs no notify; a sleep costs at most one', async (t) => {
  const bell = Doorbell.create()
  const producer = Doorbell.attach(bell.buffer)
  const sequence = (): number => Atomics.load(new Int32Array(bell.buffer), SEQUENCE_WORD)
  for (let i = 0; i < 1000; i++) producer.ring()
  t.equal(sequence(), 0, 'nobody asleep: the sequence word is untouched')
  const sleeping = bell.sleep(() => false, { timeoutMs: 5000 })
  for (let i = 0; i < 1000; i++) producer.ring()
  t.equal(await sleeping, 'rung')
  t.equal(sequence(), 1, 'a thousand rings woke the sleeper with one bump')
})

t.test('ping-pong across threads: no lost wake-up in thousands of sleep/publish races', async (t) => {
  const rounds = 4000
  const mainBell = Doorbell.create()
  const workerBell = Doorbell.create()
  const toWorker = SpscRing.create(1024, { doorbell: workerBell })
  const fromWorker = SpscRing.create(1024)
  const data: EchoData = {
    inbound: toWorker.buffer,
    outbound: fromWorker.buffer,
    ownBell: workerBell.buffer,
    peerBell: mainBell.buffer,
    rounds,
  }
  const worker = new Worker(new URL('./fixtures/ring-echo.js', import.meta.url), { workerData: data })
  t.teardown(() => worker.terminate())
  const messages = workerMessages(worker)
  t.equal(await messages.next(), FIXTURE_READY, 'the echo worker started')
  const workerResult = messages.next() as Promise<{ echoed: number; slept: number; error?: string }>

  let round = 0
  let mainSlept = 0
  let wrongAnswers = 0
  const guard = watchdog(() => round, 5000)
  try {
    const payload = new Uint8Array(4)
    const view = new DataView(payload.buffer)
    for (; round < rounds; round++) {
      view.setUint32(0, round, true)
      if (!toWorker.tryWrite(payload)) throw new Error('request ring full')
      toWorker.publish()
      let answered = false
      while (!answered) {
        fromWorker.drain((answer) => {
          if (new DataView(answer.buffer, answer.byteOffset, 4).getUint32(0, true) !== round) wrongAnswers++
          answered = true
        })
        if (answered) break
        const outcome = await mainBell.sleep(() => fromWorker.hasFrames(), { signal: guard.signal })
        if (outcome === 'aborted') throw new Error(`lost wake-up: no progress for 5 s at round ${round}`)
        if (outcome === 'rung') mainSlept++
      }
    }
  } finally {
    guard.stop()
  }
  const result = await workerResult
  t.equal(result.error, undefined)
  t.equal(round, rounds, 'every round completed')
  t.equal(result.echoed, rounds)
  t.equal(wrongAnswers, 0, 'every answer carried its own round number')
  t.ok(mainSlept > 0 && result.slept > 0, `both sides really slept (main ${mainSlept}, worker ${result.slept} times)`)
})

t.test('two producer threads, one doorbell: each stream arrives whole and in order', async (t) => {
  const bell = Doorbell.create()
  const plans: RingPlan[] = [0, 1].map((p) => ({
    runSeed: 1000 + p,
    frameSizes: Array.from({ length: 3000 }, (_, i) => (i * (p === 0 ? 37 : 53)) % 200),
    publishEvery: p === 0 ? [1, 5, 17] : [3, 1, 40, 2],
    producerPauses: p === 0 ? ['none', 'immediate'] : ['timer', 'none', 'none'],
    drainLimits: [1],
    consumerPauses: ['none'],
  }))
  const rings = plans.map(() => SpscRing.create(256))
  const workers = plans.map(() => new Worker(new URL('./fixtures/ring-producer.js', import.meta.url)))
  t.teardown(() => Promise.all(workers.map((w) => w.terminate())))
  const inboxes = workers.map(workerMessages)
  t.same(await Promise.all(inboxes.map((inbox) => inbox.next())), [FIXTURE_READY, FIXTURE_READY], 'both producers started')
  const sent = workers.map((worker, p) => {
    worker.postMessage({ buffer: rings[p]!.buffer, plan: plans[p]!, doorbell: bell.buffer })
    return inboxes[p]!.next() as Promise<RingRunResult>
  })

  const received = [0, 0]
  const checksums = [1, 1]
  const mismatches: string[] = []
  const total = (): number => received[0]! + received[1]!
  const guard = watchdog(total, 5000)
  const checkers = [0, 1].map((p) => (payload: Uint8Array) => {
    const plan = plans[p]!
    const index = received[p]!
    const expected = frameBytes(plan.runSeed, index, plan.frameSizes[index] ?? -1)
    if (Buffer.compare(payload, expected) !== 0) mismatches.push(`producer ${p} frame ${index}`)
    checksums[p] = updateChecksum(checksums[p]!, payload)
    received[p] = index + 1
  })
  let sleeps = 0
  try {
    while (received[0]! < 3000 || received[1]! < 3000) {
      const delivered = rings[0]!.drain(checkers[0]!) + rings[1]!.drain(checkers[1]!)
      if (delivered > 0) continue
      const outcome = await bell.sleep(() => rings[0]!.hasFrames() || rings[1]!.hasFrames(), { signal: guard.signal })
      if (outcome === 'aborted') throw new Error(`lost wake-up: no progress for 5 s after ${total()} frames`)
      if (outcome === 'rung') sleeps++
    }
  } finally {
    guard.stop()
  }
  const results = await Promise.all(sent)
  t.same(mismatches, [], 'every frame matched its position in its stream')
  results.forEach((result, p) => {
    t.ok(result.ok, `producer ${p} finished`)
    if (result.ok) t.equal(checksums[p], result.checksum, `producer ${p}: checksums agree`)
  })
  t.ok(sleeps > 0, `the consumer slept and was rung ${sleeps} times`)
})

t.test('a spinning sleep reports work that appears during the spin', async (t) => {
  const bell = Doorbell.create()
  let polls = 0
  t.equal(await bell.sleep(() => ++polls >= 20, { spinMicros: 1000, timeoutMs: 5000 }), 'work')
  t.ok(polls >= 20, `polled ${polls} times`)
  t.equal(await bell.sleep(() => false, { spinMicros: 20, timeoutMs: 10 }), 'timed-out', 'no work: spins, then sleeps')
})
