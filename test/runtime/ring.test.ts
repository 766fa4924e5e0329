// SpscRing in one thread: framing, wrap-around, capacity edges, errors, waits.
import t from 'tap'
import { SpscRing, frameBytesFor } from '../../src/runtime/ring.js'

/** Deterministic bytes that differ per (tag, size, index), so a misplaced byte shows. */
function pattern(tag: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (tag * 131 + size * 17 + i * 7 + 1) & 0xff
  return bytes
}

function pair(capacityBytes: number): { producer: SpscRing; consumer: SpscRing } {
  const producer = SpscRing.create(capacityBytes)
  return { producer, consumer: SpscRing.attach(producer.buffer) }
}

function drainAll(ring: SpscRing, maxFrames?: number): Uint8Array[] {
  const frames: Uint8Array[] = []
  ring.drain((payload) => frames.push(payload.slice()), maxFrames)
  return frames
}


t.test('rejects capacities that are not powers of two in range', async (t) => {
  for (const capacity of [0, 8, 15, 100, 3000, 2 ** 31, 1.5, Number.NaN]) {
    t.throws(() => SpscRing.create(capacity), { code: 'RING_INVALID_CAPACITY', name: 'RingError' }, `capacity ${capacity}`)
  }
  t.equal(SpscRing.create(16).maxFrameBytes, 12)
  t.equal(SpscRing.create(1024).capacityBytes, 1024)
})

t.test('attach refuses buffers that are not rings', async (t) => {
  t.throws(() => SpscRing.attach(new SharedArrayBuffer(4096)), { code: 'RING_INVALID_BUFFER', name: 'RingError' })
  t.throws(() => SpscRing.attach(new SharedArrayBuffer(8)), { code: 'RING_INVALID_BUFFER', name: 'RingError' })
  const ring = SpscRing.create(64)
  t.equal(SpscRing.attach(ring.buffer).maxFrameBytes, ring.maxFrameBytes)
})

t.test('a frame written at every offset, of every size, comes back intact', async (t) => {
  const capacity = 64
  let checked = 0
  for (let offset = 0; offset < capacity; offset += 4) {
    for (let size = 0; size <= capacity - 4; size++) {
      const { producer, consumer } = pair(capacity)
      // Move head and tail to `offset` with one filler frame of exactly `offset` bytes.
      if (offset > 0) {
        t.ok(producer.tryWrite(pattern(0, offset - 4)))
        producer.publish()
        t.equal(consumer.drain(() => {}), 1)
      }
      const payload = pattern(offset, size)
      if (!producer.tryWrite(payload)) {
        t.fail(`frame of ${size} bytes did not fit an empty ring at offset ${offset}`)
        continue
      }
      producer.publish()
      const frames = drainAll(consumer)
      if (frames.length !== 1 || Buffer.compare(frames[0]!, payload) !== 0) {
        t.fail(`offset ${offset} size ${size}: got ${frames.length} frames`)
      }
      checked++
    }
  }
  t.equal(checked, 16 * 61, 'every offset × size pair checked')
})

t.test('a long stream of mixed sizes wraps many times without corruption', async (t) => {
  const { producer, consumer } = pair(256)
  const sizes = [0, 1, 2, 3, 4, 5, 63, 64, 65, 100, 252, 7, 128, 31]
  const received: Uint8Array[] = []
  const sent: Uint8Array[] = []
  for (let i = 0; i < 2000; i++) {
    const payload = pattern(i, sizes[i % sizes.length]!)
    if (!producer.tryWrite(payload)) {
      producer.publish()
      consumer.drain((p) => received.push(p.slice()))
      t.ok(producer.tryWrite(payload), 'fits once the ring is drained')
    }
    sent.push(payload)
    if (i % 3 === 0) producer.publish()
  }
  producer.publish()
  consumer.drain((p) => received.push(p.slice()))
  t.equal(received.length, sent.length)
  t.ok(
    received.every((p, i) => Buffer.compare(p, sent[i]!) === 0),
    'every frame equals the one sent at its position',
  )
})

t.test('an exactly full ring refuses one more byte and accepts again after a drain', async (t) => {
  const { producer, consumer } = pair(64)
  for (let i = 0; i < 4; i++) t.ok(producer.tryWrite(pattern(i, 12)), `frame ${i} (16 bytes with header)`)
  t.equal(producer.freeBytes(), 0)
  t.notOk(producer.tryWrite(new Uint8Array(0)), 'even a zero-length frame needs 4 bytes')
  producer.publish()
  t.equal(consumer.drain(() => {}, 1), 1)
  t.ok(producer.tryWrite(pattern(9, 12)), 'room for one frame after draining one')
  t.notOk(producer.tryWrite(new Uint8Array(0)))
  producer.publish()
  const frames = drainAll(consumer)
  t.same(frames.map((f) => f[0]), [pattern(1, 12)[0], pattern(2, 12)[0], pattern(3, 12)[0], pattern(9, 12)[0]])
})

t.test('zero-length frames are delivered as empty payloads and counted', async (t) => {
  const { producer, consumer } = pair(64)
  for (let i = 0; i < 16; i++) t.ok(producer.tryWrite(new Uint8Array(0)))
  t.notOk(producer.tryWrite(new Uint8Array(0)), '16 headers fill 64 bytes')
  producer.publish()
  const lengths: number[] = []
  t.equal(consumer.drain((p) => lengths.push(p.length)), 16)
  t.same(lengths, new Array(16).fill(0))
})

t.test('frames of maxFrameBytes fit an empty ring at any offset; larger ones are refused', async (t) => {
  const { producer, consumer } = pair(128)
  t.equal(producer.maxFrameBytes, 124)
  for (let round = 0; round < 40; round++) {
    const payload = pattern(round, producer.maxFrameBytes)
    t.ok(producer.tryWrite(payload), `round ${round}`)
    t.notOk(producer.tryWrite(new Uint8Array(0)), 'the ring is full')
    producer.publish()
    const frames = drainAll(consumer)
    t.equal(Buffer.compare(frames[0]!, payload), 0)
    // Shift the next frame's offset by 4..24 bytes so the big frames wrap at many points.
    t.ok(producer.tryWrite(new Uint8Array((round % 6) * 4)))
    producer.publish()
    consumer.drain(() => {})
  }
  t.throws(() => producer.tryWrite(new Uint8Array(125)), { code: 'RING_FRAME_TOO_LARGE', name: 'RingError' })
  await t.rejects(producer.waitForSpace(125), { code: 'RING_FRAME_TOO_LARGE', name: 'RingError' })
  t.equal(frameBytesFor(124), 128)
})

t.test('staged frames stay invisible until publish', async (t) => {
  const { producer, consumer } = pair(64)
  t.ok(producer.tryWrite(pattern(1, 5)))
  t.notOk(consumer.hasFrames())
  t.equal(consumer.drain(() => {}), 0)
  t.ok(producer.publish(), 'publish reports new frames')
  t.notOk(producer.publish(), 'nothing new the second time')
  t.ok(consumer.hasFrames())
  t.equal(consumer.drain(() => {}), 1)
  t.notOk(consumer.hasFrames())
})

t.test('drain honours maxFrames and keeps the rest for later', async (t) => {
  const { producer, consumer } = pair(256)
  for (let i = 0; i < 10; i++) producer.tryWrite(pattern(i, 3))
  producer.publish()
  t.equal(consumer.drain(() => {}, 4), 4)
  const rest = drainAll(consumer)
  t.equal(rest.length, 6)
  t.equal(Buffer.compare(rest[0]!, pattern(4, 3)), 0)
})

t.test('a throwing onFrame consumes the frames delivered so far and rethrows', async (t) => {
  const { producer, consumer } = pair(256)
  for (let i = 0; i < 5; i++) producer.tryWrite(pattern(i, 8))
  producer.publish()
  let seen = 0
  t.throws(() =>
    consumer.drain(() => {
      if (++seen === 3) throw new Error('boom')
    }),
  )
  const rest = drainAll(consumer)
  t.equal(rest.length, 2, 'frames after the throwing one are still there')
  t.equal(Buffer.compare(rest[0]!, pattern(3, 8)), 0)
})

t.test('drain cannot be re-entered from its callback', async (t) => {
  const { producer, consumer } = pair(64)
  producer.tryWrite(pattern(1, 1))
  producer.publish()
  t.throws(() => consumer.drain(() => consumer.drain(() => {})), { code: 'RING_REENTRANT_DRAIN', name: 'RingError' })
})

t.test('one instance cannot be both producer and consumer', async (t) => {
  const ring = SpscRing.create(64)
  ring.tryWrite(new Uint8Array(1))
  t.throws(() => ring.drain(() => {}), { code: 'RING_WRONG_SIDE', name: 'RingError' })
  const consumer = SpscRing.attach(ring.buffer)
  consumer.drain(() => {})
  t.throws(() => consumer.tryWrite(new Uint8Array(1)), { code: 'RING_WRONG_SIDE', name: 'RingError' })
})

t.test('u32 positions wrap at 2^32 without losing frames', async (t) => {
  const ring = SpscRing.create(64)
  // Test-only: start both counters 40 bytes before 2^32. Words 32 and 64 are the
  // tail and head in ring.ts's layout (bytes 128 and 256).
  const words = new Int32Array(ring.buffer)
  words[32] = (2 ** 32 - 40) | 0
  words[64] = (2 ** 32 - 40) | 0
  const producer = SpscRing.attach(ring.buffer)
  const consumer = SpscRing.attach(ring.buffer)
  const received: Uint8Array[] = []
  for (let i = 0; i < 50; i++) {
    t.ok(producer.tryWrite(pattern(i, 9 + (i % 20))))
    producer.publish()
    consumer.drain((p) => received.push(p.slice()))
  }
  t.equal(received.length, 50)
  t.ok(received.every((p, i) => Buffer.compare(p, pattern(i, 9 + (i % 20))) === 0))
  t.ok(new Uint32Array(ring.buffer)[32]! < 2 ** 31, 'the tail wrapped past 2^32')
})

t.test('a corrupt length word is reported, not delivered', async (t) => {
  const { producer, consumer } = pair(64)
  producer.tryWrite(pattern(1, 8))
  producer.publish()
  // The first frame's length word is the first data word (byte 640).
  new Int32Array(producer.buffer)[640 / 4] = 1000
  t.throws(() => consumer.drain(() => {}), { code: 'RING_CORRUPT', name: 'RingError' })
})

t.test('waitForSpace publishes staged frames and resolves once the consumer drains', async (t) => {
  const { producer, consumer } = pair(64)
  for (let i = 0; i < 4; i++) producer.tryWrite(pattern(i, 12))
  const waiting = producer.waitForSpace(12)
  t.ok(consumer.hasFrames(), 'staged frames were published so the consumer can free space')
  let resolved = false
  void waiting.then(() => (resolved = true))
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(resolved, 'still full')
  setImmediate(() => consumer.drain(() => {}, 1))
  await waiting
  t.ok(producer.tryWrite(pattern(5, 12)))
})

t.test('write waits for space and then stages the frame', async (t) => {
  const { producer, consumer } = pair(64)
  for (let i = 0; i < 4; i++) await producer.write(pattern(i, 12))
  const writing = producer.write(pattern(4, 12))
  setImmediate(() => consumer.drain(() => {}, 2))
  await writing
  producer.publish()
  const frames = drainAll(consumer)
  t.same(
    frames.map((f) => f[0]),
    [2, 3, 4].map((i) => pattern(i, 12)[0]),
  )
})

t.test('waits end with stable codes on timeout and abort', async (t) => {
  const { producer, consumer } = pair(64)
  for (let i = 0; i < 4; i++) producer.tryWrite(pattern(i, 12))
  await t.rejects(producer.waitForSpace(12, { timeoutMs: 20 }), { code: 'RING_WAIT_TIMEOUT', name: 'RingError' })
  const controller = new AbortController()
  const waiting = producer.waitForSpace(12, { signal: controller.signal })
  setImmediate(() => controller.abort())
  await t.rejects(waiting, { code: 'RING_WAIT_ABORTED', name: 'RingError' })

  consumer.drain(() => {})
  await t.rejects(consumer.waitForFrames({ timeoutMs: 20 }), { code: 'RING_WAIT_TIMEOUT', name: 'RingError' })
  const consumerAbort = new AbortController()
  const waitingForFrames = consumer.waitForFrames({ signal: consumerAbort.signal })
  setImmediate(() => consumerAbort.abort())
  await t.rejects(waitingForFrames, { code: 'RING_WAIT_ABORTED', name: 'RingError' })
  // After an abort the flags are clear and the ring still works.
  producer.tryWrite(pattern(7, 3))
  producer.publish()
  await consumer.waitForFrames()
  t.equal(drainAll(consumer).length, 1)
})

t.test('waitForFrames resolves on publish', async (t) => {
  const { producer, consumer } = pair(64)
  const waiting = consumer.waitForFrames()
  setImmediate(() => {
    producer.tryWrite(pattern(1, 2))
    producer.publish()
  })
  await waiting
  t.equal(drainAll(consumer).length, 1)
})

t.test('tryWrite of a [start, end) range frames exactly those bytes', async (t) => {
  const { producer, consumer } = pair(128)
  const source = pattern(3, 100)
  for (const [start, end] of [[0, 100], [10, 20], [99, 100], [50, 50], [0, 0], [1, 99]] as const) {
    t.ok(producer.tryWrite(source, start, end))
    producer.publish()
    const frames = drainAll(consumer)
    t.equal(Buffer.compare(frames[0]!, source.subarray(start, end)), 0, `[${start}, ${end})`)
  }
  for (const [start, end] of [[-1, 10], [10, 5], [0, 101]] as const) {
    t.throws(() => producer.tryWrite(source, start, end), { code: 'RING_INVALID_RANGE', name: 'RingError' }, `[${start}, ${end})`)
  }
})

t.test('drainRanges delivers the same bytes as drain, wrapped frames included', async (t) => {
  const viaViews = pair(64)
  const viaRanges = pair(64)
  const fromViews: Uint8Array[] = []
  const fromRanges: Uint8Array[] = []
  let wrapped = 0
  for (let i = 0; i < 500; i++) {
    const payload = pattern(i, (i * 13) % 61)
    if (!viaViews.producer.tryWrite(payload) || !viaRanges.producer.tryWrite(payload)) {
      t.fail('an empty ring refused a frame')
    }
    viaViews.producer.publish()
    viaRanges.producer.publish()
    viaViews.consumer.drain((p) => fromViews.push(p.slice()))
    viaRanges.consumer.drainRanges((bytes, start, end) => {
      if (bytes.buffer !== viaRanges.consumer.buffer) wrapped++
      fromRanges.push(bytes.slice(start, end))
    })
  }
  t.equal(fromRanges.length, 500)
  t.ok(fromRanges.every((p, i) => Buffer.compare(p, fromViews[i]!) === 0 && Buffer.compare(p, pattern(i, (i * 13) % 61)) === 0))
  t.ok(wrapped > 0, `${wrapped} wrapped frames came from the scratch buffer`)
})

t.test('a spinning wait returns as soon as frames are there, and still sleeps after its spin', async (t) => {
  const { producer, consumer } = pair(64)
  producer.tryWrite(pattern(1, 3))
  producer.publish()
  await consumer.waitForFrames({ spinMicros: 50 })
  t.equal(consumer.drain(() => {}), 1)
  const waiting = consumer.waitForFrames({ spinMicros: 50, timeoutMs: 5000 })
  setImmediate(() => {
    producer.tryWrite(pattern(2, 3))
    producer.publish()
  })
  await waiting
  t.equal(consumer.drain(() => {}), 1, 'woken by the publish after the spin gave up')
})
