// Every operation of the SDK against one real node process.
import t from 'tap'
import { connect, TroupeClientError, type TroupeClient } from '../../src/client/index.js'
import { missingServer, planNodes } from './real-nodes.js'

const missing = missingServer()
const TOKEN = 'sesame'

/** One node process (with a token) shared by the tests of this file: starting one costs seconds. */
let shared: Promise<string> | undefined
function sharedNode(): Promise<string> {
  shared ??= (async () => {
    const previous = process.env['TROUPE_TOKEN']
    process.env['TROUPE_TOKEN'] = TOKEN // inherited by the node process
    const plan = await planNodes(1)
    const node = plan.start(1)
    if (previous === undefined) delete process.env['TROUPE_TOKEN']
    else process.env['TROUPE_TOKEN'] = previous
    rootTeardown.push(() => plan.stopAll())
    return node.tcp
  })()
  return shared
}
const rootTeardown: (() => Promise<void>)[] = []
t.teardown(async () => {
  for (const stopNode of rootTeardown) await stopNode()
})

t.test('every operation against a 1-node process', { skip: missing }, async (t) => {
  const tcp = await sharedNode()
  const client: TroupeClient = await connect({ nodes: [tcp], clientName: 'sdk-test', token: TOKEN })
  t.teardown(() => client.close())

  const map = await client.cluster()
  t.equal(map.shardCount, 4)
  t.equal(map.nodes[0]?.tcp, tcp, 'the node announces its client address')

  t.match(await client.queues.put('jobs', { visibilityTimeoutMs: 5_000 }), { created: true, config: { visibilityTimeoutMs: 5_000 } })
  t.match(await client.queues.put('jobs', { maxReceives: 3 }), { created: false, config: { visibilityTimeoutMs: 5_000, maxReceives: 3 } })
  t.same((await client.queues.list()).map((q) => q.name), ['jobs'])

  const first = await client.queues.send('jobs', { n: 1, tags: ['a'] }, { priority: 1 })
  const again = await client.queues.send('jobs', 'ignored', { dedupId: 'same' })
  t.equal(await client.queues.send('jobs', 'ignored too', { dedupId: 'same' }), again, 'a repeated dedupId returns the first id')
  const batch = await client.queues.sendBatch('jobs', [{ body: 'b1' }, { body: Buffer.from([1, 2, 3]) }, { body: 'later', delayMs: 60_000 }])
  t.equal(batch.length, 3)
  t.match((await client.queues.get('jobs')).stats, { visible: 4, delayed: 1, total: 5 })

  const received = await client.queues.receive('jobs', { max: 10, waitMs: 100 })
  t.equal(received.length, 4)
  t.equal(received[0]!.id, first, 'the higher priority comes first')
  t.same(received[0]!.body, { n: 1, tags: ['a'] })
  t.equal(received[0]!.receiveCount, 1)
  t.ok(received[0]!.sentAt > Date.now() - 60_000 && received[0]!.sentAt <= Date.now() + 1_000, 'sentAt is a time in ms')

  const [m1, m2, m3, m4] = received
  await client.queues.ack('jobs', m1!.receipt)
  const ackError = await client.queues.ack('jobs', [m2!.receipt, m1!.receipt]).catch((e: unknown) => e)
  t.match(ackError, { code: 'RECEIPT_NOT_FOUND', missing: [m1!.receipt] }, 'a batch ack names exactly the missing receipts')
  await client.queues.extendVisibility('jobs', m3!.receipt, 10_000)
  await client.queues.nack('jobs', m4!.receipt)
  const redelivered = await client.queues.receive('jobs', { waitMs: 1_000 })
  t.equal(redelivered[0]?.id, m4!.id)
  t.equal(redelivered[0]?.receiveCount, 2)

  // A long poll answered by a send from elsewhere.
  await client.queues.put('empty')
  const polling = client.queues.receive('empty', { waitMs: 5_000 })
  await new Promise((resolve) => setTimeout(resolve, 50))
  await client.queues.send('empty', 'wake up')
  t.equal((await polling)[0]?.body, 'wake up')

  await client.queues.purge('jobs')
  t.equal((await client.queues.get('jobs')).stats.total, 0)
  await client.queues.delete('jobs')
  await t.rejects(client.queues.get('jobs'), { code: 'QUEUE_NOT_FOUND' })
  await t.rejects(client.queues.send('bad name!', 'x'), { code: 'INVALID_ARGUMENT' })

  const v1 = await client.kv.put('user:1', 'ada')
  const v2 = await client.kv.put('user:1', new Uint8Array([0, 255]), { ifVersion: v1 })
  await t.rejects(client.kv.put('user:1', 'x', { ifVersion: v1 }), { code: 'CONFLICT' })
  const entry = await client.kv.get('user:1')
  t.same([...entry!.value], [0, 255])
  t.equal(entry!.version, v2)
  t.equal((await client.kv.get('user:1', { consistency: 'stale' }))?.version, v2)
  await client.kv.put('session', 'x', { ttlMs: 60_000 })
  t.ok(((await client.kv.get('session'))?.expiresAt ?? 0) > Date.now(), 'a TTL gives expiresAt')
  await client.kv.delete('user:1', { ifVersion: v2 })
  t.equal(await client.kv.get('user:1'), undefined)
  const error = await client.kv.delete('user:1').catch((e: unknown) => e)
  t.ok(error instanceof TroupeClientError && error.code === 'KEY_NOT_FOUND')
})

t.test('500 pipelined sends on one connection to a real node', { skip: missing }, async (t) => {
  const client = await connect({ nodes: [await sharedNode()], token: TOKEN })
  t.teardown(() => client.close())
  await client.queues.put('bulk')
  const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => client.queues.send('bulk', i)))
  t.equal(new Set(ids).size, 500)
  t.equal((await client.queues.get('bulk')).stats.total, 500)
})

t.test('the token is checked by a real node', { skip: missing }, async (t) => {
  const tcp = await sharedNode()
  await t.rejects(connect({ nodes: [tcp], token: 'wrong' }), { code: 'UNAUTHORIZED' })
  await t.rejects(connect({ nodes: [tcp], token: '' }), { code: 'UNAUTHORIZED' })
})
