// Property: across two real worker threads, with random frame sizes (many
// wrapping the end of a small ring), random publish points, drain limits and
// pauses on both sides, and a ring small enough that the producer keeps
// waiting for space, the consumer receives exactly the producer's sequence:
// every frame checked byte for byte at its position (no loss, duplicate,
// reordering or corruption), and both sides agree on a checksum of all bytes.
import t from 'tap'
import fc from 'fast-check'
import { Worker } from 'node:worker_threads'
import { SpscRing } from '../../src/runtime/ring.js'
import { FIXTURE_READY, type Pause, type RingPlan, type RingRunResult } from './fixtures/ring-frames.js'

class FixtureWorker {
  private readonly worker: Worker
  private pending: ((result: RingRunResult) => void) | undefined
  readonly ready: Promise<void>

  constructor(name: string) {
    this.worker = new Worker(new URL(`./fixtures/${name}.js`, import.meta.url))
    this.ready = new Promise((resolve) => this.worker.once('message', () => resolve()))
    this.worker.on('message', (result: RingRunResult | typeof FIXTURE_READY) => {
      if (result === FIXTURE_READY) return
      const resolve = this.pending
      this.pending = undefined
      resolve?.(result)
    })
    this.worker.on('error', (error) => {
      const resolve = this.pending
      this.pending = undefined
      resolve?.({ ok: false, frames: -1, error: `worker crashed: ${error.stack}` })
    })
  }

  run(buffer: SharedArrayBuffer, plan: RingPlan): Promise<RingRunResult> {
    return new Promise((resolve) => {
      this.pending = resolve
      this.worker.postMessage({ buffer, plan })
    })
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }
}

const pauseArb = fc.constantFrom<Pause>('none', 'none', 'none', 'immediate', 'timer')

const scenarioArb = fc
  .record({
    capacityLog2: fc.integer({ min: 4, max: 10 }), // 16 B .. 1 KiB: frames wrap and the ring fills often
    runSeed: fc.integer({ min: 1, max: 0x7fffffff }),
    frames: fc.integer({ min: 1, max: 600 }),
    sizeMix: fc.array(fc.oneof(fc.constant('tiny'), fc.constant('small'), fc.constant('large'), fc.constant('max')), {
      minLength: 1,
      maxLength: 8,
    }),
    sizeNoise: fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
    publishEvery: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
    producerPauses: fc.array(pauseArb, { minLength: 1, maxLength: 8 }),
    drainLimits: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }),
    consumerPauses: fc.array(pauseArb, { minLength: 1, maxLength: 8 }),
  })
  .map((s) => {
    const capacityBytes = 2 ** s.capacityLog2
    const maxFrameBytes = capacityBytes - 4
    const frameSizes = Array.from({ length: s.frames }, (_, i) => {
      const noise = s.sizeNoise[i % s.sizeNoise.length]!
      switch (s.sizeMix[i % s.sizeMix.length]!) {
        case 'tiny':
          return noise % Math.min(5, maxFrameBytes + 1)
        case 'small':
          return noise % Math.min(40, maxFrameBytes + 1)
        case 'large':
          return noise % (maxFrameBytes + 1)
        case 'max':
          return maxFrameBytes - (noise % 4)
      }
    })
    const plan: RingPlan = {
      runSeed: s.runSeed,
      frameSizes,
      publishEvery: s.publishEvery,
      producerPauses: s.producerPauses,
      drainLimits: s.drainLimits,
      consumerPauses: s.consumerPauses,
    }
    return { capacityBytes, plan }
  })

t.test('property: the consumer thread receives exactly what the producer thread wrote', async (t) => {
  const producer = new FixtureWorker('ring-producer')
  const consumer = new FixtureWorker('ring-consumer')
  t.teardown(async () => {
    await producer.terminate()
    await consumer.terminate()
  })
  await Promise.all([producer.ready, consumer.ready])
  let runs = 0
  let totalFrames = 0
  await fc.assert(
    fc.asyncProperty(scenarioArb, async ({ capacityBytes, plan }) => {
      const ring = SpscRing.create(capacityBytes)
      const sending = producer.run(ring.buffer, plan)
      const received = await consumer.run(ring.buffer, plan)
      // A consumer that stopped early leaves the producer waiting for space: fail
      // now (teardown terminates both workers) instead of waiting out its limit.
      if (!received.ok) throw new Error(`consumer failed: ${received.error}`)
      const sent = await sending
      if (!sent.ok) throw new Error(`producer failed: ${sent.error}`)
      runs++
      totalFrames += received.frames
      return (
        sent.frames === plan.frameSizes.length &&
        received.frames === plan.frameSizes.length &&
        received.checksum === sent.checksum &&
        !SpscRing.attach(ring.buffer).hasFrames()
      )
    }),
    // No shrinking: runs across threads are not replayable step by step, and a
    // failing run can take the fixtures' wait limit; the counterexample is printed.
    { numRuns: 40, endOnFailure: true },
  )
  t.equal(runs, 40, `every run completed (${totalFrames} frames in all)`)
})

t.test('a large stream through a 64-byte ring: sustained backpressure and wrap-around', async (t) => {
  const producer = new FixtureWorker('ring-producer')
  const consumer = new FixtureWorker('ring-consumer')
  t.teardown(async () => {
    await producer.terminate()
    await consumer.terminate()
  })
  await Promise.all([producer.ready, consumer.ready])
  const frameSizes = Array.from({ length: 5_000 }, (_, i) => (i * 7919) % 61)
  const plan: RingPlan = {
    runSeed: 12345,
    frameSizes,
    publishEvery: [1, 3, 2, 8],
    producerPauses: ['none'],
    drainLimits: [1, 2, 100],
    consumerPauses: ['none', 'none', 'immediate'],
  }
  const ring = SpscRing.create(64)
  const [sent, received] = await Promise.all([producer.run(ring.buffer, plan), consumer.run(ring.buffer, plan)])
  t.same(sent.ok, true, sent.ok ? 'producer finished' : sent.error)
  t.same(received.ok, true, received.ok ? 'consumer finished' : received.error)
  if (sent.ok && received.ok) {
    t.equal(received.frames, frameSizes.length)
    t.equal(received.checksum, sent.checksum)
  }
})
