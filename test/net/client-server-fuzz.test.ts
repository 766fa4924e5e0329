// Fuzzing the client protocol server (fast-check): random bytes, truncated
// and split frames, random requests. The server never throws out of a
// handler (the test process would die), closes a connection it cannot trust,
// answers every request that has an id (an error is fine, INTERNAL is not:
// that would be an exception nobody expected), and keeps serving.
import fc from 'fast-check'
import t from 'tap'
import { CLIENT_OPS } from '../../src/net/client-ops.js'
import { startClientServer } from '../../src/net/client-server.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'
import { removeDir, startTestNode, tempDir } from '../node/helpers.js'
import { ok, WireClient } from './client-wire.js'

const dir = await tempDir('troupe-client-fuzz-')
const node = await startTestNode(dir, { sync: 'none' })
const server = await startClientServer(node, { host: '127.0.0.1', port: 0, handshakeTimeoutMs: 100, idleTimeoutMs: 150, maxFrameBytes: 64 * 1024 })
t.teardown(async () => {
  await server.close()
  await node.close()
  await removeDir(dir)
})
const port = server.address.port
const encoder = new FrameEncoder({ maxFrameBytes: 1 << 20 })
const hello = encoder.encode({ op: 'hello', v: 1 })

const codes = new Set([
  'INVALID_ARGUMENT',
  'QUEUE_NOT_FOUND',
  'RECEIPT_NOT_FOUND',
  'KEY_NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'QUEUE_FULL',
  'TIMEOUT',
])

async function stillServes(): Promise<boolean> {
  const { client } = await WireClient.connect(port)
  try {
    return ok(await client.request('ping')) !== undefined
  } finally {
    client.close()
  }
}

t.test('random bytes, before or after the hello, end in a close (at once or at a timeout), never a crash', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.boolean(), async (garbage, afterHello) => {
      const client = await WireClient.open(port)
      try {
        client.writeRaw(afterHello ? Buffer.concat([hello, garbage]) : garbage)
        await client.closed
        return true
      } finally {
        client.close()
      }
    }),
    { numRuns: 40 },
  )
  t.ok(await stillServes(), 'a fresh connection is served')
})

t.test('a truncated frame is waited for, then dropped at the idle timeout; a frame split anywhere is answered', async (t) => {
  const request = encoder.encode({ id: 1, op: 'ping' })
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: request.length - 1 }), fc.boolean(), async (cut, complete) => {
      const client = await WireClient.open(port)
      try {
        const bytes = Buffer.concat([hello, request])
        const at = hello.length + cut
        client.writeRaw(bytes.subarray(0, at))
        const welcome = (await client.nextUnsolicited()) as { op?: string } | undefined
        if (welcome?.op !== 'welcome') return false
        if (!complete) {
          await client.closed
          return client.unsolicited.length === 0
        }
        client.writeRaw(bytes.subarray(at))
        const answer = (await client.nextUnsolicited()) as { id?: unknown; ok?: unknown } | undefined
        return answer?.id === 1 && answer.ok === true
      } finally {
        client.close()
      }
    }),
    { numRuns: 25 },
  )
  t.ok(await stillServes())
})

t.test('random requests get an answer each: a result or an error with a contract code, never INTERNAL', async (t) => {
  const setup = await WireClient.connect(port)
  ok(await setup.client.request('queue.put', { queue: 'q1' }))
  ok(await setup.client.request('send', { queue: 'q1', body: 'seed' }))
  setup.client.close()

  const fieldNames = ['queue', 'body', 'delayMs', 'priority', 'dedupId', 'messages', 'max', 'waitMs', 'visibilityTimeoutMs', 'receipt', 'receipts', 'timeoutMs', 'key', 'value', 'ttlMs', 'ifVersion', 'consistency', 'config', 'id2']
  const value = fc.oneof(
    fc.anything({ maxDepth: 2, maxKeys: 4 }),
    fc.integer({ min: -5, max: 2_000 }),
    fc.constantFrom('q1', 'q-2', '', 'x'.repeat(200), 'linearizable', 'stale'),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(fc.record({ body: fc.anything({ maxDepth: 1 }), priority: fc.integer({ min: -1, max: 10 }) }, { requiredKeys: [] }), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('visibilityTimeoutMs', 'maxReceives', 'deadLetterQueue', 'delayMs', 'colour'), fc.oneof(fc.integer({ min: -1, max: 100 }), fc.string())),
  )
  const random = fc.record({
    op: fc.oneof(fc.constantFrom(...CLIENT_OPS), fc.string({ maxLength: 12 })),
    fields: fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 6 }),
  })
  // Mostly well-formed requests, so the success paths are fuzzed too (bodies and keys are random).
  const queue = fc.constantFrom('q1', 'q2')
  const key = fc.string({ minLength: 1, maxLength: 20 })
  const wellFormed = fc.oneof(
    fc.record({ op: fc.constant('send'), fields: fc.record({ queue, body: fc.anything({ maxDepth: 3 }), priority: fc.integer({ min: 0, max: 9 }) }, { requiredKeys: ['queue', 'body'] }) }),
    fc.record({ op: fc.constant('sendBatch'), fields: fc.record({ queue, messages: fc.array(fc.record({ body: fc.anything({ maxDepth: 2 }) }), { minLength: 1, maxLength: 5 }) }) }),
    fc.record({ op: fc.constant('receive'), fields: fc.record({ queue, max: fc.integer({ min: 1, max: 10 }) }) }),
    fc.record({ op: fc.constantFrom('queue.get', 'queue.put', 'queue.purge'), fields: fc.record({ queue }) }),
    fc.record({ op: fc.constant('kv.put'), fields: fc.record({ key, value: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string()) }) }),
    fc.record({ op: fc.constantFrom('kv.get', 'kv.delete'), fields: fc.record({ key }) }),
    fc.record({ op: fc.constantFrom('ping', 'cluster', 'queue.list'), fields: fc.constant({}) }),
  )
  const request = fc.oneof(random, wellFormed)
  let answered = 0
  let errors = 0
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 20 }), async (requests) => {
      const { client } = await WireClient.connect(port)
      try {
        const answers = await client.pipeline(
          requests.map(({ op, fields }) => {
            // Long polls are bounded so the run stays short; the wait itself is tested elsewhere.
            const args: Record<string, unknown> = { ...fields }
            if (typeof args['waitMs'] === 'number' && args['waitMs'] > 50) args['waitMs'] = 50
            return { op, args }
          }),
        )
        for (const answer of answers) {
          answered++
          if (answer.ok) continue
          errors++
          if (!codes.has(answer.error?.code ?? '')) throw new Error(`unexpected error answer ${JSON.stringify(answer.error)}`)
        }
        return !client.isClosed
      } finally {
        client.close()
      }
    }),
    { numRuns: 40 },
  )
  t.ok(answered > errors && errors > 0, `${answered} requests answered, ${errors} with an error`)
  t.ok(await stillServes())
})
