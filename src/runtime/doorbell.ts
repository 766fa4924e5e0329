// Doorbell: one consumer thread, many producer threads. The consumer drains all
// its inbound rings, and when they are empty it sleeps on this ONE shared word
// (Atomics.waitAsync, so its event loop keeps running); a producer rings after
// publishing to any of those rings.
//
//   consumer: for (;;) { drain every ring; await doorbell.sleep(() => rings.some((r) => r.hasFrames())) }
//   producer: SpscRing.attach(buffer, { doorbell: Doorbell.attach(bellBuffer) }): every publish rings it
//             (or call doorbell.ring() yourself after publish)
//
// Why it cannot lose a wake-up: the consumer reads the sequence word, sets the
// sleeping flag, and only then asks `hasWork()`; it waits only while the
// sequence still holds the value it read. A producer publishes its ring's tail
// before it looks at the flag. All of these are sequentially consistent atomics,
// so either the consumer's hasWork() sees the published frames, or the producer
// sees the flag and bumps the sequence (so the wait returns at once or is
// notified).
//
// Why it is cheap: ring() is one atomic load while the consumer is awake. Only
// the producer that swaps the flag from 1 to 0 bumps the sequence and notifies,
// so a sleep costs at most one notify however many producers ring.
import { RingError } from './ring-error.js'
import { spinUntil, waitWhileEqual, type WaitOptions } from './ring-wait.js'

const MAGIC = 0x42454c4c // 'BELL'
const META_MAGIC = 0
const SEQUENCE = 16 // byte 64: bumped by whoever wakes the consumer
const SLEEPING = 32 // byte 128: set by the consumer before it sleeps
const BUFFER_BYTES = 192

/**
 * How a sleep ended: 'work' (hasWork() was true, so it did not sleep), 'rung'
 * (a producer rang or wake() was called; spurious wake-ups also report this, so
 * check the rings), 'timed-out', or 'aborted'.
 */
export type DoorbellWake = 'work' | 'rung' | 'timed-out' | 'aborted'

export class Doorbell {
  readonly buffer: SharedArrayBuffer
  private readonly words: Int32Array
  private sleeping = false

  static create(): Doorbell {
    const buffer = new SharedArrayBuffer(BUFFER_BYTES)
    new Int32Array(buffer)[META_MAGIC] = MAGIC
    return new Doorbell(buffer)
  }

  static attach(buffer: SharedArrayBuffer): Doorbell {
    return new Doorbell(buffer)
  }

  private constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== BUFFER_BYTES) {
      throw new RingError('RING_INVALID_BUFFER', 'not a doorbell: expected a SharedArrayBuffer made by Doorbell.create')
    }
    const words = new Int32Array(buffer)
    if (words[META_MAGIC] !== MAGIC) {
      throw new RingError('RING_INVALID_BUFFER', 'not a doorbell: bad magic')
    }
    this.buffer = buffer
    this.words = words
  }

  /** Producer side, after publishing: wakes the consumer if (and only if) it is asleep or about to be. */
  ring(): void {
    const words = this.words
    if (Atomics.load(words, SLEEPING) !== 0 && Atomics.compareExchange(words, SLEEPING, 1, 0) === 1) {
      Atomics.add(words, SEQUENCE, 1)
      Atomics.notify(words, SEQUENCE)
    }
  }

  /** Wakes the consumer whether or not it is asleep (shutdown, or work that is not in a ring). */
  wake(): void {
    Atomics.store(this.words, SLEEPING, 0)
    Atomics.add(this.words, SEQUENCE, 1)
    Atomics.notify(this.words, SEQUENCE)
  }

  /**
   * Consumer side: sleeps until rung, unless `hasWork()` (called after the
   * consumer has announced it is going to sleep) says there is work already.
   * One consumer thread per doorbell, one sleep at a time.
   */
  async sleep(hasWork: () => boolean, options: WaitOptions = {}): Promise<DoorbellWake> {
    if (this.sleeping) throw new RingError('DOORBELL_ALREADY_SLEEPING', 'this doorbell already has a sleeper in this thread')
    const words = this.words
    if (spinUntil(hasWork, options.spinMicros)) return 'work'
    const sequence = Atomics.load(words, SEQUENCE)
    Atomics.store(words, SLEEPING, 1)
    this.sleeping = true
    try {
      if (hasWork()) return 'work'
      const outcome = await waitWhileEqual(words, SEQUENCE, sequence, options)
      return outcome === 'changed' ? 'rung' : outcome
    } finally {
      this.sleeping = false
      // Only this thread sets the flag, so clearing it cannot hide another sleeper.
      Atomics.store(words, SLEEPING, 0)
    }
  }
}
