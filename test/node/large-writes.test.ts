// Writes near the request limit with the WAL writer on a thread of its own
// (the default on machines with more than two cores): each batch crosses to
// the WAL thread as one message, and recovery reads the log back in reads
// of up to 16 MiB, both larger than the ring between two threads.
import t from 'tap'
import { removeDir, startTestNode, tempDir } from './helpers.js'

t.test('batches of 8 MB are written through a WAL thread of its own and read back after a restart', async (t) => {
  const dir = await tempDir()
  t.teardown(() => removeDir(dir))
  const options = { walThread: 'own' as const, shards: 1 }
  let node = await startTestNode(dir, options)
  await node.queues.put('large')
  for (let batch = 0; batch < 3; batch++) {
    const ids = await node.queues.sendBatch('large', Array.from({ length: 8 }, (_, i) => ({ body: Buffer.alloc(1_000_000, 8 * batch + i) })))
    t.equal(ids.length, 8)
  }
  await node.close()
  node = await startTestNode(dir, options)
  t.teardown(() => node.close())
  t.equal((await node.queues.get('large')).stats.total, 24, 'all 24 MB recovered from the WAL')
  const firsts: number[] = []
  for (let round = 0; round < 3; round++) {
    for (const message of await node.queues.receive('large', { max: 100 })) firsts.push((message.body as Uint8Array)[0]!)
  }
  t.same(firsts, Array.from({ length: 24 }, (_, i) => i), 'every body, in send order')
})
