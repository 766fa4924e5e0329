// consume(): acks on success, nacks with a growing delay on failure, keeps a
// slow handler's message invisible, stops on abort, runs sandboxed handlers.
import t from 'tap'
import type { Message } from '../../src/client/index.js'
import { fakeClusterWithClient, waitFor } from './helpers.js'

t.test('a successful handler gets each message once and the consumer acks it', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  await client.queues.sendBatch('jobs', Array.from({ length: 20 }, (_, i) => ({ body: i })))
  const seen: number[] = []
  const consumer = client.consume('jobs', (message) => {
    seen.push(message.body as number)
  }, { concurrency: 4, waitMs: 50 })
  await waitFor('20 messages processed', () => consumer.stats().processed === 20)
  const stats = await consumer.stop()
  t.same([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i))
  t.match(stats, { received: 20, processed: 20, failed: 0 })
  t.equal(cluster.ops('ack').length, 20)
  t.equal(cluster.queues.get('jobs')!.messages.size, 0, 'the queue is empty')
})

t.test('a failing handler: the message is nacked with a delay that doubles per delivery', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'poison')
  const counts: number[] = []
  const consumer = client.consume('jobs', (message) => {
    counts.push(message.receiveCount)
    throw new Error('cannot handle')
  }, { waitMs: 50, nackBackoff: { initialMs: 10, maxMs: 40 } })
  await waitFor('four failed deliveries', () => consumer.stats().failed >= 4)
  const stats = await consumer.stop()
  t.same(counts.slice(0, 4), [1, 2, 3, 4], 'delivered again after each nack')
  t.same(cluster.nacks.slice(0, 4).map((n) => n.delayMs), [10, 20, 40, 40], 'delay = min(maxMs, initialMs * 2^(receiveCount-1))')
  t.equal(stats.processed, 0)
  t.equal(cluster.ops('ack').length, 0)
})

t.test('a slow handler keeps its message invisible by extending the visibility', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs', { visibilityTimeoutMs: 150 })
  await client.queues.send('jobs', 'slow')
  let calls = 0
  const consumer = client.consume('jobs', async () => {
    calls++
    await new Promise((resolve) => setTimeout(resolve, 500))
  }, { concurrency: 2, waitMs: 20 })
  await waitFor('the message processed', () => consumer.stats().processed === 1)
  const stats = await consumer.stop()
  t.equal(calls, 1, 'never delivered twice although the handler outlived the visibility timeout')
  t.ok(stats.extended >= 3, `extended ${stats.extended} times`)
  t.ok(cluster.extensions.every((e) => e.timeoutMs === 150), 'each extension asks for the queue visibility timeout')
  t.equal(cluster.ops('ack').length, 1)
})

t.test('aborting the signal stops receiving and waits for the running handler', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'one')
  const controller = new AbortController()
  let finished = false
  const consumer = client.consume('jobs', async (_message: Message, ctx) => {
    controller.abort()
    await new Promise((resolve) => setTimeout(resolve, 100))
    finished = !ctx.signal.aborted
  }, { signal: controller.signal, waitMs: 1_000 })
  const stats = await consumer.done
  t.ok(finished, 'the handler ran to its end with its signal intact')
  t.match(stats, { received: 1, processed: 1 })
  const receivesAtStop = cluster.ops('receive').length
  await client.queues.send('jobs', 'two')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(cluster.ops('receive').length, receivesAtStop, 'no receive after the stop')
})

t.test('a receive still long-polling at the stop gives its messages back', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  const handled: unknown[] = []
  const consumer = client.consume('jobs', (m) => void handled.push(m.body), { waitMs: 2_000 })
  await waitFor('the long poll', () => cluster.ops('receive').length === 1)
  const stopped = consumer.stop()
  await stopped
  await client.queues.send('jobs', 'late')
  await waitFor('the late message nacked back', () => cluster.nacks.length === 1)
  t.same(handled, [], 'the stopped consumer ran no handler')
  t.equal(cluster.nacks[0]!.delayMs, 0)
})

t.test('stop waits for a hung handler only up to stopTimeoutMs, then aborts its signal', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'hang')
  let aborted = false
  const consumer = client.consume('jobs', (_m, ctx) =>
    new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => {
      aborted = true
      resolve()
    })), { waitMs: 20, stopTimeoutMs: 50 })
  await waitFor('the handler started', () => consumer.stats().received === 1)
  const stats = await consumer.stop()
  t.ok(aborted, 'the handler saw its signal abort')
  t.equal(stats.processed, 0)
  t.equal(cluster.ops('ack').length + cluster.ops('nack').length, 0, 'the message is left to its visibility timeout')
})

t.test('consume() on a queue that does not exist ends with QUEUE_NOT_FOUND', async (t) => {
  const { client } = await fakeClusterWithClient(t, { nodes: 1 })
  const consumer = client.consume('missing', () => undefined)
  await t.rejects(consumer.done, { code: 'QUEUE_NOT_FOUND' })
})

t.test('sandboxed handlers run in worker threads; a throw there nacks', async (t) => {
  const { cluster, client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs')
  await client.queues.sendBatch('jobs', [{ body: { n: 1 } }, { body: { n: 2 } }, { body: { fail: true } }])
  const sandbox = new URL('./fixtures/sandbox-handler.js', import.meta.url)
  const consumer = client.consume('jobs', () => {
    throw new Error('the in-process handler must not run')
  }, { sandbox, concurrency: 2, waitMs: 20, nackBackoff: { initialMs: 60_000 } })
  await waitFor('two processed, one failed', () => consumer.stats().processed === 2 && consumer.stats().failed === 1, 20_000)
  const stats = await consumer.stop()
  t.match(stats, { processed: 2, failed: 1 })
  t.equal(cluster.nacks.length, 1)
})

t.test('a delivery that lapsed before its extension aborts the handler signal', async (t) => {
  const { client } = await fakeClusterWithClient(t, { nodes: 1 })
  await client.queues.put('jobs', { visibilityTimeoutMs: 60 })
  await client.queues.send('jobs', 'too slow')
  let reason: unknown
  const consumer = client.consume('jobs', (_m, ctx) =>
    new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => {
      reason = ctx.signal.reason
      resolve()
    })), { waitMs: 20, extendEveryMs: 150 })
  await waitFor('the handler told to give up', () => reason !== undefined)
  const stats = await consumer.stop()
  t.match(reason, { code: 'RECEIPT_NOT_FOUND' })
  t.ok(stats.errors >= 1, 'the failed extension is counted')
})
