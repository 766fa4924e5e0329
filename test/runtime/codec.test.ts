// The cross-thread codec: round-trips, a fixed structures table that a fresh
// instance (a restarted thread) shares, decoding straight from shared memory.
import t from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { createCodec, OWN_BUFFER_MIN_BYTES } from '../../src/runtime/codec.js'

const ENVELOPE = ['to', 'from', 'type', 'payload']
const TABLE = [ENVELOPE, ['queue', 'body', 'priority']]

/** Uint8Array and Buffer decode as byte arrays; compare them by content. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) }
  if (Array.isArray(value)) return value.map(normalize)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]))
  }
  return value
}

const samples: Array<[string, unknown]> = [
  ['null', null],
  ['undefined', undefined],
  ['booleans', [true, false]],
  ['small integers', [0, 1, -1, 127, 128, -33, 255, 65535, -65536]],
  ['integers beyond 2^32', [2 ** 32, 2 ** 32 + 1, 2 ** 40 + 5, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]],
  ['floats', [1.5, -0.25, 1e300, Math.PI]],
  ['strings', ['', 'a', 'héllo wörld', '日本語', 'x'.repeat(70_000), '🎭'.repeat(40)]],
  ['Uint8Array', new Uint8Array([0, 1, 2, 254, 255])],
  ['Buffer', Buffer.from('raw bytes')],
  ['empty bytes', new Uint8Array(0)],
  ['envelope', { to: 7, from: 2 ** 41, type: 'send', payload: new Uint8Array(60).fill(9) }],
  ['nested', { a: { b: { c: [1, { d: null, e: undefined, f: 'g' }] } }, list: [[], {}, [[]]] }],
  ['object with undefined and null fields', { to: undefined, from: null, type: 'x', payload: undefined }],
  ['envelope keys in another order', { from: 1, to: 2, type: 't', payload: 'p' }],
]

t.test('round-trips every supported kind of value', async (t) => {
  const codec = createCodec({ structures: TABLE })
  for (const [name, value] of samples) {
    t.strictSame(normalize(codec.decode(codec.encode(value))), normalize(value), name)
  }
})

t.test('a fresh instance with the same table decodes what another encoded', async (t) => {
  const sender = createCodec({ structures: TABLE })
  // Encode every shape twice first: a codec that remembered record definitions
  // across calls would then send the later values without them.
  for (const [, value] of samples) sender.encode(value)
  const encoded = samples.map(([, value]) => sender.encode(value))
  const restarted = createCodec({ structures: TABLE.map((keys) => [...keys]) })
  t.equal(restarted.tableFingerprint, sender.tableFingerprint)
  encoded.forEach((bytes, i) => {
    t.strictSame(normalize(restarted.decode(bytes)), normalize(samples[i]![1]), samples[i]![0])
  })
})

t.test('objects outside the table are self-describing for any decoder', async (t) => {
  const sender = createCodec({ structures: TABLE })
  const shapes = Array.from({ length: 100 }, (_, i) => ({ [`k${i}`]: i, shared: 'v', [`z${i % 7}`]: [i] }))
  const encoded = shapes.map((shape) => sender.encode(shape))
  const other = createCodec({ structures: TABLE })
  encoded.forEach((bytes, i) => t.strictSame(other.decode(bytes), shapes[i]))
  const noTable = createCodec()
  t.strictSame(noTable.decode(sender.encode({ unknown: 1, shape: 2 })), { unknown: 1, shape: 2 })
})

t.test('the table makes envelopes smaller, and its order matters', async (t) => {
  const envelope = { to: 7, from: 9, type: 'send', payload: 'p' }
  const withTable = createCodec({ structures: TABLE }).encode(envelope)
  const withoutTable = createCodec().encode(envelope)
  t.ok(withTable.length < withoutTable.length, `${withTable.length} < ${withoutTable.length} bytes`)
  const reordered = createCodec({ structures: [TABLE[1]!, TABLE[0]!] })
  t.not(reordered.tableFingerprint, createCodec({ structures: TABLE }).tableFingerprint)
})

t.test('decodes from SharedArrayBuffer-backed views, and decoded bytes do not alias them', async (t) => {
  const codec = createCodec({ structures: TABLE })
  const value = { to: 1, from: 2, type: 'ü'.repeat(300), payload: new Uint8Array(64).fill(42) }
  const bytes = codec.encode(value)
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length + 16))
  shared.set(bytes, 16)
  const decoded = codec.decode(shared.subarray(16)) as typeof value
  t.strictSame(normalize(decoded), normalize(value))
  const byRange = codec.decode(shared, 16, 16 + bytes.length) as typeof value
  t.equal(byRange.type, value.type, 'decodes a [start, end) range of a larger view')
  shared.fill(0)
  t.ok(decoded.payload.every((b) => b === 42), 'the payload was copied out of shared memory')
  t.notOk(decoded.payload.buffer instanceof SharedArrayBuffer)
})

t.test('a large value is copied once: its binaries are views of one private buffer', async (t) => {
  const codec = createCodec({ structures: TABLE })
  const bodies = Array.from({ length: 100 }, (_, i) => new Uint8Array(40).fill(i))
  const bytes = codec.encode({ to: 1, from: 2, type: 'batch', payload: bodies })
  t.ok(bytes.length >= OWN_BUFFER_MIN_BYTES, `${bytes.length} bytes: a large value`)
  for (const source of ['shared', 'private'] as const) {
    const view = source === 'shared' ? new Uint8Array(new SharedArrayBuffer(bytes.length)) : new Uint8Array(bytes.length)
    view.set(bytes)
    const decoded = codec.decode(view) as { payload: Uint8Array[] }
    view.fill(0)
    t.ok(decoded.payload.every((body, i) => body.length === 40 && body.every((b) => b === i)), `${source}: the bodies survive the source being overwritten`)
    const buffer = decoded.payload[0]!.buffer
    t.notOk(buffer instanceof SharedArrayBuffer, `${source}: not in shared memory`)
    t.ok(decoded.payload.every((body) => body.buffer === buffer), `${source}: one buffer for all 100 bodies`)
    t.equal(buffer.byteLength, bytes.length, `${source}: that buffer is the value's bytes, nothing more`)
  }
  // Bytes handed over are decoded where they are: the binaries are views of them.
  const owned = Uint8Array.from(bytes)
  const decodedOwned = codec.decodeOwned(owned) as { payload: Uint8Array[] }
  t.ok(decodedOwned.payload.every((body, i) => body.buffer === owned.buffer && body.every((b) => b === i)), 'decodeOwned: views of the bytes given, no copy')
  t.throws(() => codec.decodeOwned(Uint8Array.of(0xd9, 0x10, 0x61)), { code: 'CODEC_DECODE_FAILED' }, 'decodeOwned: a truncated string')
  // A small value keeps its binaries in buffers of their own.
  const small = codec.decode(codec.encode({ to: 1, from: 2, type: 'one', payload: new Uint8Array(8).fill(7) })) as { payload: Uint8Array }
  t.equal(small.payload.buffer.byteLength, 8)
})

t.test('bytes stay valid across later encode calls', async (t) => {
  const codec = createCodec({ structures: TABLE })
  const first = codec.encode({ to: 1, from: 2, type: 'a', payload: 'first' })
  const copy = Uint8Array.from(first)
  for (let i = 0; i < 500; i++) codec.encode({ to: i, from: i, type: 'b', payload: 'x'.repeat(i) })
  t.equal(Buffer.compare(first, copy), 0)
})

t.test('rejects malformed tables and undecodable bytes with stable codes', async (t) => {
  const invalid: unknown[] = [[[]], [['a', 'a']], [['a'], ['a']], [[1]], 'nope']
  for (const structures of invalid) {
    t.throws(() => createCodec({ structures: structures as string[][] }), { code: 'CODEC_INVALID_TABLE' }, JSON.stringify(structures))
  }
  t.throws(() => createCodec({ structures: Array.from({ length: 2000 }, (_, i) => [`k${i}`]) }), { code: 'CODEC_INVALID_TABLE' })
  const codec = createCodec({ structures: TABLE })
  t.throws(() => codec.decode(new Uint8Array(0)), { code: 'CODEC_DECODE_FAILED' })
  t.throws(() => codec.decode(Uint8Array.of(0xd9, 0x10, 0x61)), { code: 'CODEC_DECODE_FAILED' }, 'truncated string')
  t.throws(() => codec.decode(Uint8Array.of(0x01, 0x02)), { code: 'CODEC_DECODE_FAILED' }, 'trailing bytes after one value')
})

t.test('property: random JSON-like values with binaries round-trip through a fresh decoder', async (t) => {
  const sender = createCodec({ structures: TABLE })
  const receiver = createCodec({ structures: TABLE })
  const leaf = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.uint8Array({ maxLength: 80 }),
  )
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('envelope')),
    array: fc.array(tie('node'), { maxLength: 5 }),
    object: fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 5 }),
    envelope: fc.record({ to: fc.nat(), from: fc.maxSafeNat(), type: fc.string(), payload: tie('node') }),
  })).node
  await fc.assert(
    fc.property(value, (v) => {
      const decoded = receiver.decode(sender.encode(v))
      return isDeepStrictEqual(normalize(decoded), normalize(v))
    }),
    { numRuns: 300 },
  )
  t.pass('300 random values round-tripped')
})

t.test('encodeTransient: the range decodes anywhere until the next encode', async (t) => {
  const codec = createCodec({ structures: TABLE })
  const receiver = createCodec({ structures: TABLE })
  for (const [name, value] of samples) {
    const range = codec.encodeTransient(value)
    t.strictSame(normalize(receiver.decode(range.bytes, range.start, range.end)), normalize(value), name)
    t.equal(Buffer.compare(range.bytes.subarray(range.start, range.end), codec.encode(value)), 0, `${name}: same bytes as encode`)
  }
})

t.test('values of every size decode out of shared memory at any offset', async (t) => {
  const codec = createCodec({ structures: TABLE })
  const shared = new Uint8Array(new SharedArrayBuffer(3 * 1024 * 1024))
  for (const size of [10, 139, 140, 141, 500, 5000, 1024 * 1024 + 10]) {
    const value = { to: size, from: 1, type: 'é'.repeat(size >> 2), payload: { text: 'abc'.repeat(size >> 3), n: 2 ** 45 } }
    const bytes = codec.encode(value)
    const offset = 777 + (size % 13)
    shared.set(bytes, offset)
    t.strictSame(codec.decode(shared, offset, offset + bytes.length), value, `${bytes.length} bytes at ${offset}`)
    t.strictSame(codec.decode(shared.subarray(offset, offset + bytes.length)), value, `${bytes.length} bytes as a view`)
  }
})
