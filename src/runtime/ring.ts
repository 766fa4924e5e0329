// SpscRing: a single-producer/single-consumer byte ring over one
// SharedArrayBuffer, carrying frames `u32 length + payload` between two threads.
//
// Usage. One thread calls `SpscRing.create(capacityBytes)` and sends `ring.buffer`
// to the other thread (postMessage / workerData), which calls
// `SpscRing.attach(buffer)`. Exactly one thread may produce and one consume:
// the runtime must guarantee it (one ring per ordered pair of threads); the
// ring itself only refuses one instance used as both. A producer whose consumer
// sleeps on a Doorbell passes it as `{ doorbell }` to create/attach, so every
// publish (including the ones inside waitForSpace and write) also rings it.
//
//   producer: tryWrite(payload, start?, end?) → false when full (nothing staged)
//             publish()          → one release store of the tail; wakes a sleeping consumer
//             waitForSpace(n)    → resolves once a payload of n bytes fits (never blocks)
//             write(payload)     → tryWrite, else publish + waitForSpace + tryWrite
//   consumer: drain(onFrame, maxFrames?)       → delivers published frames in order, as views
//             drainRanges(onFrame, maxFrames?) → the same as (bytes, start, end), no allocation
//             hasFrames()                      → cheap check, for Doorbell.sleep's hasWork
//             waitForFrames()                  → resolves once something is published (single-ring consumers)
//
// Decisions:
// - Layout: a 640-byte header, then `capacityBytes` of data. The words each side
//   writes (tail; head; consumer-sleeping flag; producer-waiting flag) sit on
//   separate 128-byte lines so the two threads do not bounce one cache line.
// - Indexes are monotonic u32 byte counters that wrap at 2^32 (stored in Int32
//   words, read back with `>>> 0`); capacity is a power of two, so the offset is
//   `counter & mask` and `(tail - head) >>> 0` is the used byte count even across
//   the 2^32 wrap.
// - Frames are padded to 4 bytes, so the length word is always aligned and never
//   split by the end of the ring. A payload may wrap around the end: the producer
//   copies it in two pieces; the consumer hands out the shared memory itself when
//   the payload is contiguous, or a private scratch buffer into which it
//   reassembled a wrapped payload. Either is valid only during the callback: the
//   producer may overwrite the bytes as soon as drain returns. codec.ts decodes
//   such bytes safely (it copies out of shared memory first and copies binaries).
// - Memory ordering: payload bytes are plain stores, published by the
//   Atomics.store of the tail (JS atomics are sequentially consistent, so at
//   least release); the consumer Atomics.loads the tail before reading payloads,
//   and frees space with one Atomics.store of the head per drain.
// - Wake-ups: a side about to sleep sets its flag, re-checks, then waits on the
//   other side's counter word with Atomics.waitAsync. The other side, after
//   storing its counter, swaps the flag back to 0 and notifies only if it was
//   set, so there is no notify per frame and none when nobody sleeps. Either the
//   sleeper's re-check sees the new counter or the notifier sees the flag (both
//   are sequentially consistent), so a wake-up cannot be lost.
// - maxFrameBytes = capacityBytes - 4: a frame must fit in an empty ring.
//   Larger payloads are refused with RING_FRAME_TOO_LARGE instead of waiting forever.
// - Restarts: head and tail live in the shared buffer, so a restarted thread
//   attaches and continues. Frames a dead producer staged but never published
//   are lost; frames a dead consumer was delivered in a drain that never
//   returned are delivered again to the next consumer (the head is stored when
//   a drain ends).
import type { Doorbell } from './doorbell.js'
import { RingError } from './ring-error.js'
import { remainingMs, spinUntil, waitWhileEqual, type WaitOptions } from './ring-wait.js'

const MAGIC = 0x52494e47 // 'RING'
const VERSION = 1

// Int32 word indexes in the header.
const META_MAGIC = 0
const META_VERSION = 1
const META_CAPACITY = 2
const TAIL = 32 // byte 128, written by the producer
const HEAD = 64 // byte 256, written by the consumer
const CONSUMER_SLEEPING = 96 // byte 384, set by the consumer, cleared by whoever wakes it
const PRODUCER_WAITING = 128 // byte 512, set by the producer, cleared by whoever wakes it
const HEADER_BYTES = 640

const FRAME_HEADER_BYTES = 4

// Waits are cut into slices that re-check the ring. The wake-up protocol is
// meant to make this unnecessary, but one CI run saw a producer and a consumer
// both wait out a 10 s limit on a ring with room: a notify was missed (cause
// not found yet). With slices, a missed notify costs at most one slice.
const WAIT_SLICE_MS = 50

function waitSliceMs(deadlineMs: number | undefined): number {
  const remaining = remainingMs(deadlineMs)
  return remaining === undefined ? WAIT_SLICE_MS : Math.min(remaining, WAIT_SLICE_MS)
}

function deadlinePassed(deadlineMs: number | undefined): boolean {
  return deadlineMs !== undefined && performance.now() >= deadlineMs
}
export const RING_MIN_CAPACITY_BYTES = 16
export const RING_MAX_CAPACITY_BYTES = 2 ** 30

// Below this, a byte loop beats subarray + TypedArray#set (measured: 16 B loop 41 ns vs 68 ns; 48 B 119 vs 78 ns).
const SMALL_COPY_BYTES = 24

/** Bytes a payload of `payloadBytes` occupies in the ring: header plus payload, padded to 4. */
export function frameBytesFor(payloadBytes: number): number {
  return (FRAME_HEADER_BYTES + payloadBytes + 3) & ~3
}

type Side = 'unused' | 'producer' | 'consumer'

export interface RingOptions {
  /** Producer side: the consumer's doorbell, rung after every publish that made frames visible. */
  doorbell?: Doorbell
}

export class SpscRing {
  readonly buffer: SharedArrayBuffer
  readonly capacityBytes: number
  /** Largest payload one frame can carry. */
  readonly maxFrameBytes: number

  private readonly words: Int32Array
  private readonly bytes: Uint8Array
  private readonly mask: number
  private side: Side = 'unused'
  private readonly doorbell: Doorbell | undefined

  // Producer state: frames in [publishedTail, stagedTail) are written but not yet visible.
  private stagedTail: number
  private publishedTail: number
  // The consumer's head as last seen; re-read only when it says the ring is full.
  private cachedHead: number

  // Consumer state.
  private head: number
  private draining = false
  private scratch: Uint8Array = new Uint8Array(0)

  /** Allocates a ring of `capacityBytes` (a power of two, 16 B to 1 GiB) of frame space. */
  static create(capacityBytes: number, options: RingOptions = {}): SpscRing {
    if (
      !Number.isInteger(capacityBytes) ||
      capacityBytes < RING_MIN_CAPACITY_BYTES ||
      capacityBytes > RING_MAX_CAPACITY_BYTES ||
      (capacityBytes & (capacityBytes - 1)) !== 0
    ) {
      throw new RingError(
        'RING_INVALID_CAPACITY',
        `ring capacity must be a power of two from ${RING_MIN_CAPACITY_BYTES} to ${RING_MAX_CAPACITY_BYTES} bytes, got ${capacityBytes}`,
      )
    }
    const buffer = new SharedArrayBuffer(HEADER_BYTES + capacityBytes)
    const words = new Int32Array(buffer, 0, HEADER_BYTES / 4)
    words[META_MAGIC] = MAGIC
    words[META_VERSION] = VERSION
    words[META_CAPACITY] = capacityBytes
    return new SpscRing(buffer, options)
  }

  /** The same ring seen from another thread (or a restarted one: it continues from the shared head and tail). */
  static attach(buffer: SharedArrayBuffer, options: RingOptions = {}): SpscRing {
    return new SpscRing(buffer, options)
  }

  private constructor(buffer: SharedArrayBuffer, options: RingOptions) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < HEADER_BYTES + RING_MIN_CAPACITY_BYTES) {
      throw new RingError('RING_INVALID_BUFFER', 'not a ring buffer: expected a SharedArrayBuffer made by SpscRing.create')
    }
    const words = new Int32Array(buffer)
    const capacityBytes = words[META_CAPACITY]!
    if (
      words[META_MAGIC] !== MAGIC ||
      words[META_VERSION] !== VERSION ||
      buffer.byteLength !== HEADER_BYTES + capacityBytes
    ) {
      throw new RingError('RING_INVALID_BUFFER', 'not a ring buffer of this version: bad magic, version or size')
    }
    this.buffer = buffer
    this.doorbell = options.doorbell
    this.words = words
    this.bytes = new Uint8Array(buffer)
    this.capacityBytes = capacityBytes
    this.mask = capacityBytes - 1
    this.maxFrameBytes = capacityBytes - FRAME_HEADER_BYTES
    this.stagedTail = this.publishedTail = Atomics.load(words, TAIL) >>> 0
    this.head = this.cachedHead = Atomics.load(words, HEAD) >>> 0
  }

  // ---------------------------------------------------------------- producer

  /**
   * Stages one frame carrying `payload[start, end)` (default: all of it).
   * Returns false, staging nothing, when it does not fit right now; throws
   * RING_FRAME_TOO_LARGE when it never can. Staged frames are invisible to the
   * consumer until `publish()`.
   */
  tryWrite(payload: Uint8Array, start = 0, end = payload.length): boolean {
    if (this.side !== 'producer') this.claim('producer')
    const payloadBytes = end - start
    if (!(payloadBytes >= 0 && start >= 0 && end <= payload.length)) {
      throw new RingError('RING_INVALID_RANGE', `invalid payload range [${start}, ${end}) of ${payload.length} bytes`)
    }
    if (payloadBytes > this.maxFrameBytes) throw this.tooLarge(payloadBytes)
    const frameBytes = (FRAME_HEADER_BYTES + payloadBytes + 3) & ~3
    const capacity = this.capacityBytes
    const tail = this.stagedTail
    if (capacity - ((tail - this.cachedHead) >>> 0) < frameBytes) {
      this.cachedHead = Atomics.load(this.words, HEAD) >>> 0
      if (capacity - ((tail - this.cachedHead) >>> 0) < frameBytes) return false
    }
    const offset = tail & this.mask
    this.words[(HEADER_BYTES + offset) >> 2] = payloadBytes
    let at = offset + FRAME_HEADER_BYTES
    if (at === capacity) at = 0
    const firstBytes = Math.min(payloadBytes, capacity - at)
    this.copyIn(payload, start, firstBytes, HEADER_BYTES + at)
    if (firstBytes < payloadBytes) this.copyIn(payload, start + firstBytes, payloadBytes - firstBytes, HEADER_BYTES)
    this.stagedTail = (tail + frameBytes) >>> 0
    return true
  }

  /**
   * Makes every staged frame visible with one store, and wakes the consumer if it
   * announced it was going to sleep (in waitForFrames, or on the doorbell given
   * at create/attach). Returns whether anything new was published.
   */
  publish(): boolean {
    if (this.side !== 'producer') this.claim('producer')
    const tail = this.stagedTail
    if (tail === this.publishedTail) return false
    this.publishedTail = tail
    const words = this.words
    Atomics.store(words, TAIL, tail | 0)
    if (Atomics.load(words, CONSUMER_SLEEPING) !== 0 && Atomics.compareExchange(words, CONSUMER_SLEEPING, 1, 0) === 1) {
      Atomics.notify(words, TAIL)
    }
    this.doorbell?.ring()
    return true
  }

  /** Bytes of frame space free for the producer now (staged frames count as used). */
  freeBytes(): number {
    this.cachedHead = Atomics.load(this.words, HEAD) >>> 0
    return this.capacityBytes - ((this.stagedTail - this.cachedHead) >>> 0)
  }

  /**
   * Resolves once a payload of `payloadBytes` fits. Publishes staged frames
   * first (the consumer cannot free space for frames it cannot see). Rejects with
   * RING_FRAME_TOO_LARGE, RING_WAIT_TIMEOUT or RING_WAIT_ABORTED.
   */
  async waitForSpace(payloadBytes: number, options: WaitOptions = {}): Promise<void> {
    if (this.side !== 'producer') this.claim('producer')
    if (payloadBytes > this.maxFrameBytes) throw this.tooLarge(payloadBytes)
    this.publish()
    const frameBytes = frameBytesFor(payloadBytes)
    const words = this.words
    if (spinUntil(() => this.freeBytes() >= frameBytes, options.spinMicros)) return
    const deadlineMs = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs
    // Each pass either returns or waits for the consumer to move the head, so the
    // loop is bounded by the consumer's progress and the deadline.
    for (;;) {
      Atomics.store(words, PRODUCER_WAITING, 1)
      const head = Atomics.load(words, HEAD)
      this.cachedHead = head >>> 0
      if (this.capacityBytes - ((this.stagedTail - this.cachedHead) >>> 0) >= frameBytes) {
        Atomics.store(words, PRODUCER_WAITING, 0)
        return
      }
      const outcome = await waitWhileEqual(words, HEAD, head, { ...options, timeoutMs: waitSliceMs(deadlineMs) })
      if (outcome === 'timed-out' && !deadlinePassed(deadlineMs)) continue
      if (outcome !== 'changed') {
        Atomics.store(words, PRODUCER_WAITING, 0)
        throw waitEnded(outcome, 'space in the ring')
      }
    }
  }

  /** Stages `payload`, waiting for space if needed (publishing what is staged first). Does not publish it. */
  async write(payload: Uint8Array, options: WaitOptions = {}): Promise<void> {
    if (this.tryWrite(payload)) return
    await this.waitForSpace(payload.length, options)
    // Only this thread writes, so the space waited for is still there.
    if (!this.tryWrite(payload)) throw new RingError('RING_CORRUPT', 'space vanished after waitForSpace: is there a second producer?')
  }

  // ---------------------------------------------------------------- consumer

  /** Whether published frames are waiting to be drained. */
  hasFrames(): boolean {
    return Atomics.load(this.words, TAIL) >>> 0 !== this.head
  }

  /**
   * Delivers published frames in order, at most `maxFrames` (default: all that
   * were published when drain started, so one call is bounded by the capacity),
   * then frees their space with one store and wakes a producer waiting for it.
   * `payload` is valid only during the callback. If onFrame throws, the frames
   * delivered so far, the throwing one included, count as consumed; the error
   * is rethrown. Returns the number of frames delivered.
   */
  drain(onFrame: (payload: Uint8Array) => void, maxFrames?: number): number {
    return this.drainRanges((bytes, start, end) => onFrame(bytes.subarray(start, end)), maxFrames)
  }

  /**
   * As drain, without allocating a view per frame: each payload is
   * `bytes[start, end)`, where `bytes` is a view of the whole ring (or of a
   * scratch buffer for a frame that wrapped). Read only that range, and only
   * during the callback, e.g. `codec.decode(bytes, start, end)`.
   */
  drainRanges(onFrame: (bytes: Uint8Array, start: number, end: number) => void, maxFrames: number = Number.MAX_SAFE_INTEGER): number {
    if (this.side !== 'consumer') this.claim('consumer')
    if (this.draining) throw new RingError('RING_REENTRANT_DRAIN', 'drain called from inside its own onFrame callback')
    const words = this.words
    const tail = Atomics.load(words, TAIL) >>> 0
    let head = this.head
    if (head === tail) return 0
    const capacity = this.capacityBytes
    const mask = this.mask
    const bytes = this.bytes
    let delivered = 0
    this.draining = true
    try {
      while (head !== tail && delivered < maxFrames) {
        const offset = head & mask
        const payloadBytes = words[(HEADER_BYTES + offset) >> 2]! >>> 0
        const frameBytes = (FRAME_HEADER_BYTES + payloadBytes + 3) & ~3
        if (payloadBytes > this.maxFrameBytes || frameBytes > ((tail - head) >>> 0)) {
          throw new RingError(
            'RING_CORRUPT',
            `frame at ${head} claims ${payloadBytes} bytes but only ${(tail - head) >>> 0} are published`,
          )
        }
        let at = offset + FRAME_HEADER_BYTES
        if (at === capacity) at = 0
        head = (head + frameBytes) >>> 0
        delivered++
        if (at + payloadBytes <= capacity) {
          onFrame(bytes, HEADER_BYTES + at, HEADER_BYTES + at + payloadBytes)
        } else {
          onFrame(this.reassemble(at, payloadBytes), 0, payloadBytes)
        }
      }
    } finally {
      this.draining = false
      this.head = head
      Atomics.store(words, HEAD, head | 0)
      if (Atomics.load(words, PRODUCER_WAITING) !== 0 && Atomics.compareExchange(words, PRODUCER_WAITING, 1, 0) === 1) {
        Atomics.notify(words, HEAD)
      }
    }
    return delivered
  }

  /**
   * Resolves once published frames are waiting. For a thread that consumes this
   * one ring; a thread with many inbound rings sleeps on a Doorbell instead.
   * Rejects with RING_WAIT_TIMEOUT or RING_WAIT_ABORTED.
   */
  async waitForFrames(options: WaitOptions = {}): Promise<void> {
    if (this.side !== 'consumer') this.claim('consumer')
    const words = this.words
    if (spinUntil(() => Atomics.load(words, TAIL) >>> 0 !== this.head, options.spinMicros)) return
    const deadlineMs = options.timeoutMs === undefined ? undefined : performance.now() + options.timeoutMs
    for (;;) {
      Atomics.store(words, CONSUMER_SLEEPING, 1)
      const tail = Atomics.load(words, TAIL)
      if (tail >>> 0 !== this.head) {
        Atomics.store(words, CONSUMER_SLEEPING, 0)
        return
      }
      const outcome = await waitWhileEqual(words, TAIL, tail, { ...options, timeoutMs: waitSliceMs(deadlineMs) })
      if (outcome === 'timed-out' && !deadlinePassed(deadlineMs)) continue
      if (outcome !== 'changed') {
        Atomics.store(words, CONSUMER_SLEEPING, 0)
        throw waitEnded(outcome, 'frames in the ring')
      }
    }
  }

  // ---------------------------------------------------------------- internals

  private copyIn(source: Uint8Array, from: number, count: number, to: number): void {
    const bytes = this.bytes
    if (count <= SMALL_COPY_BYTES) {
      for (let i = 0; i < count; i++) bytes[to + i] = source[from + i]!
    } else {
      bytes.set(source.subarray(from, from + count), to)
    }
  }

  /** Copies a payload that wraps the end of the ring into the scratch buffer, which it returns. */
  private reassemble(at: number, payloadBytes: number): Uint8Array {
    if (this.scratch.length < payloadBytes) {
      // Grow in powers of two so a run of wrapped frames reallocates O(log n) times.
      let size = Math.max(64, this.scratch.length)
      while (size < payloadBytes) size *= 2
      this.scratch = new Uint8Array(Math.min(size, this.maxFrameBytes))
    }
    const firstBytes = this.capacityBytes - at
    const scratch = this.scratch
    scratch.set(this.bytes.subarray(HEADER_BYTES + at, HEADER_BYTES + this.capacityBytes), 0)
    scratch.set(this.bytes.subarray(HEADER_BYTES, HEADER_BYTES + payloadBytes - firstBytes), firstBytes)
    return scratch
  }

  private claim(side: 'producer' | 'consumer'): void {
    if (this.side !== 'unused') {
      throw new RingError('RING_WRONG_SIDE', `this ring instance is the ${this.side}; it cannot also be the ${side}`)
    }
    this.side = side
  }

  private tooLarge(payloadBytes: number): RingError {
    return new RingError(
      'RING_FRAME_TOO_LARGE',
      `payload of ${payloadBytes} bytes exceeds this ring's maxFrameBytes of ${this.maxFrameBytes}`,
    )
  }
}

function waitEnded(outcome: 'timed-out' | 'aborted', what: string): RingError {
  return outcome === 'timed-out'
    ? new RingError('RING_WAIT_TIMEOUT', `timed out waiting for ${what}`)
    : new RingError('RING_WAIT_ABORTED', `aborted while waiting for ${what}`)
}
