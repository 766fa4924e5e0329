// Framing: `u32 length + msgpack` frames survive any chunking, the length limit
// is enforced on the prefix, malformed payloads are typed errors, and many
// messages encode into one buffer.
import t from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { FrameDecoder, FRAME_HEADER_BYTES, NO_FRAME } from '../../src/net/frame-decoder.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'
import { isNetError } from '../../src/net/net-error.js'
import { OWN_FRAME_MIN_BYTES } from '../../src/net/wire-codec.js'
import { OutboundQueue } from '../../src/net/outbound-queue.js'
import { normalize } from './helpers.js'

const MAX = 1 << 20

const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__')
const { value: messageArb } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
}))

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const p of points) {
    chunks.push(bytes.subarray(from, p))
    from = p
  }
  chunks.push(bytes.subarray(from))
  return chunks
}

function header(length: number): Buffer {
  const b = Buffer.alloc(FRAME_HEADER_BYTES)
  b.writeUInt32BE(length, 0)
  return b
}

t.test('any messages cut into any chunks decode to the same sequence (property)', async (t) => {
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (messages, offsets, withHeartbeats) => {
      const encoder = new FrameEncoder({ maxFrameBytes: MAX })
      const frames = messages.map((m) => encoder.encode(m))
      // Heartbeats (zero-length frames) between messages must be skipped.
      const stream = Buffer.concat(withHeartbeats ? frames.flatMap((f) => [header(0), f]) : frames)
      const decoder = new FrameDecoder({ maxFrameBytes: MAX })
      const decoded: unknown[] = []
      for (const chunk of cut(stream, offsets)) {
        decoder.push(chunk)
        decoded.push(...decoder.drain())
      }
      return decoder.bufferedBytes === 0 && isDeepStrictEqual(normalize(decoded), normalize(messages)) && decoder.heartbeatsReceived === (withHeartbeats ? messages.length : 0)
    }),
    { numRuns: 300 },
  )
})

t.test('a frame fed one byte at a time decodes once complete, and not before', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: MAX })
  const message = { entries: Array.from({ length: 200 }, (_, i) => ({ index: i, data: Buffer.alloc(100, i) })) }
  const frame = encoder.encode(message)
  const decoder = new FrameDecoder({ maxFrameBytes: MAX })
  for (let i = 0; i < frame.length - 1; i++) {
    decoder.push(frame.subarray(i, i + 1))
    if (decoder.next() !== NO_FRAME) t.fail(`decoded early at byte ${i}`)
  }
  decoder.push(frame.subarray(frame.length - 1))
  t.same(normalize(decoder.next()), normalize(message))
  t.equal(decoder.next(), NO_FRAME)
  t.equal(decoder.bufferedBytes, 0)
})

t.test('an oversize length prefix fails as soon as the prefix is read, before any payload', async (t) => {
  const decoder = new FrameDecoder({ maxFrameBytes: 1000 })
  decoder.push(header(1001).subarray(0, 2))
  t.equal(decoder.next(), NO_FRAME, 'half a prefix: nothing to decide yet')
  decoder.push(header(1001).subarray(2))
  t.throws(() => decoder.next(), { code: 'FRAME_TOO_LARGE' })
  t.equal(decoder.bufferedBytes, 0, 'nothing is held after the failure')
  // The failure is final.
  t.throws(() => decoder.push(Buffer.from([1])), { code: 'FRAME_TOO_LARGE' })
  t.throws(() => decoder.next(), { code: 'FRAME_TOO_LARGE' })
  t.ok(decoder.failed)

  const atLimit = new FrameDecoder({ maxFrameBytes: 1000 })
  atLimit.push(Buffer.concat([header(1000), Buffer.from([0xc4, 0xcd, 0x03, 0xe5]), Buffer.alloc(997)]))
  t.throws(() => atLimit.next(), { code: 'FRAME_MALFORMED' }, 'a frame of exactly maxFrameBytes passes the length check')
})

t.test('frames that are not exactly one msgpack value are FRAME_MALFORMED', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['a map with a missing value', Buffer.from([0x81, 0xa1, 0x61])],
    ['trailing bytes after a value', Buffer.from([0x01, 0x02])],
    ['a truncated string', Buffer.from([0xa5, 0x61])],
    ['an array claiming 2^32-1 items', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ['an unknown extension', Buffer.from([0xd4, 0x55, 0x00])],
  ]
  for (const [name, payload] of cases) {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX })
    decoder.push(Buffer.concat([header(payload.length), payload]))
    t.throws(() => decoder.next(), { code: 'FRAME_MALFORMED' }, name)
  }
})

t.test('random garbage never escapes as anything but a NetError (property)', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (garbage) => {
      const decoder = new FrameDecoder({ maxFrameBytes: 64 })
      try {
        decoder.push(garbage)
        decoder.drain()
        return true
      } catch (error) {
        return isNetError(error, 'FRAME_TOO_LARGE') || isNetError(error, 'FRAME_MALFORMED')
      }
    }),
    { numRuns: 500 },
  )
})

t.test('the limit can be raised between two frames of one chunk', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: MAX })
  const small = { hello: 1 }
  const big = { blob: Buffer.alloc(5000, 7) }
  const decoder = new FrameDecoder({ maxFrameBytes: 100 })
  decoder.push(encoder.encodeAll([small, big]))
  t.same(decoder.next(), small)
  decoder.maxFrameBytes = 10_000
  t.same(normalize(decoder.next()), normalize(big))
})

t.test('decoded byte arrays do not alias the received chunk', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: MAX })
  const chunk = encoder.encode({ data: Buffer.alloc(32, 9) })
  const decoder = new FrameDecoder({ maxFrameBytes: MAX })
  decoder.push(chunk)
  const message = decoder.next() as { data: Uint8Array }
  chunk.fill(0)
  t.same(Array.from(message.data), Array(32).fill(9))
})

t.test('a large frame is copied once, whole or in pieces: its binaries are views of that copy, never of a chunk', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: MAX })
  const message = { bodies: Array.from({ length: 100 }, (_, i) => Buffer.alloc(40, i)) }
  const frame = encoder.encode(message)
  t.ok(frame.length - FRAME_HEADER_BYTES >= OWN_FRAME_MIN_BYTES, 'a large frame')
  for (const pieces of [1, 7]) {
    const chunks = Array.from({ length: pieces }, (_, i) => Buffer.from(frame.subarray(Math.floor((i * frame.length) / pieces), Math.floor(((i + 1) * frame.length) / pieces))))
    const decoder = new FrameDecoder({ maxFrameBytes: MAX })
    for (const chunk of chunks) decoder.push(chunk)
    const decoded = decoder.next() as { bodies: Uint8Array[] }
    for (const chunk of chunks) chunk.fill(0)
    t.ok(decoded.bodies.every((body, i) => body.length === 40 && body.every((b) => b === i)), `${pieces} chunk(s): the bodies survive the chunks being overwritten`)
    const buffer = decoded.bodies[0]!.buffer
    t.ok(decoded.bodies.every((body) => body.buffer === buffer), `${pieces} chunk(s): one buffer for all 100 bodies`)
    t.equal(buffer.byteLength, frame.length - FRAME_HEADER_BYTES, `${pieces} chunk(s): that buffer is the frame's payload, nothing more`)
    t.equal(decoder.next(), NO_FRAME)
  }
})

t.test('encodeAll writes many frames, in order, into one buffer', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: MAX })
  const messages = Array.from({ length: 50 }, (_, i) => ({ i, s: 'x'.repeat(i) }))
  const buffer = encoder.encodeAll(messages)
  const separately = Buffer.concat(messages.map((m) => encoder.encode(m)))
  t.ok(buffer.equals(separately))
  const decoder = new FrameDecoder({ maxFrameBytes: MAX })
  decoder.push(buffer)
  t.same(decoder.drain(), messages)
})

t.test('the encoder refuses messages over the limit and values msgpack cannot encode', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: 100 })
  t.throws(() => encoder.encode({ blob: Buffer.alloc(200) }), { code: 'FRAME_TOO_LARGE' })
  t.throws(() => encoder.encode(Symbol('nope')), { code: 'MESSAGE_UNENCODABLE' })
  t.throws(() => encoder.encode(10n ** 30n), { code: 'MESSAGE_UNENCODABLE' })
  const cyclic: Record<string, unknown> = {}
  cyclic['self'] = cyclic
  t.throws(() => encoder.encode(cyclic), { code: 'MESSAGE_UNENCODABLE' })
  const decoder = new FrameDecoder({ maxFrameBytes: 100 })
  decoder.push(encoder.encode({ after: 'failures' }))
  t.same(decoder.next(), { after: 'failures' }, 'the encoder still works after failed encodes')
  t.throws(() => new FrameEncoder({ maxFrameBytes: 0 }), { code: 'INVALID_CONFIG' })
  t.throws(() => new FrameDecoder({ maxFrameBytes: 2 ** 32 }), { code: 'INVALID_CONFIG' })
})

t.test('the outbound queue batches frames into few buffers and never exceeds its bound', async (t) => {
  const encoder = new FrameEncoder({ maxFrameBytes: 4096 })
  const queue = new OutboundQueue(encoder, { maxQueuedBytes: 10_000, slabBytes: 4096 })
  const messages: unknown[] = []
  let refused = 0
  for (let i = 0; i < 1000; i++) {
    const message = { i, pad: 'p'.repeat(i % 50) }
    if (queue.append(message, 0)) messages.push(message)
    else refused++
    t.ok(queue.queuedBytes <= 10_000)
  }
  t.ok(refused > 0, 'the bound refused some messages')
  t.ok(messages.length > 0)
  const buffers = queue.take()
  t.ok(buffers.length <= Math.ceil(10_000 / 4096) + 1, `${buffers.length} buffers for ${messages.length} frames`)
  t.equal(queue.queuedBytes, 0)
  const decoder = new FrameDecoder({ maxFrameBytes: 4096 })
  for (const b of buffers) decoder.push(b)
  t.same(decoder.drain(), messages)

  // Bytes held elsewhere (the socket's buffer) count against the same bound.
  t.equal(queue.append({ x: 1 }, 9_999), false)
  t.equal(queue.append({ x: 1 }, 0), true)
  // A taken buffer is not overwritten by later appends.
  const [taken] = queue.take()
  const copy = Buffer.from(taken!)
  queue.append({ y: 'later' }, 0)
  t.ok(taken!.equals(copy))
})
