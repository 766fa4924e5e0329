// The WalWriter runs on its own worker thread under the node's storage
// supervisor (rest-for-one). When that thread dies, the supervisor starts a
// new writer and restarts the shards after it, which recover from the WAL:
// the node serves again and no acknowledged write is lost.
import t from 'tap'
import type { Supervisor, ThreadHost } from '../../src/runtime/index.js'
import { removeDir, startTestNode, tempDir } from './helpers.js'

t.test('killing the WAL writer thread under load loses no acknowledged send', async (t) => {
  const dir = await tempDir()
  t.teardown(() => removeDir(dir))
  const node = await startTestNode(dir, { snapshotEveryEntries: 150 })
  t.teardown(() => node.close())
  await node.queues.put('w')
  const acked: string[] = []
  let failures = 0
  let stop = false
  const writers = Array.from({ length: 8 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      try {
        acked.push(await node.queues.send('w', { w, n }))
      } catch {
        failures++ // refused or unknown while the storage restarts: not acknowledged
      }
    }
  })
  while (acked.length < 200) await new Promise((resolve) => setTimeout(resolve, 10))
  const walHost = node.system.root.child<Supervisor>('storage').child<ThreadHost>('wal')
  const before = walHost.threadId
  await walHost.terminateWorker()
  const killedAt = acked.length
  const deadline = Date.now() + 30_000
  while (acked.length < killedAt + 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  stop = true
  await Promise.all(writers)
  t.not(walHost.threadId, before, 'a new WAL writer thread runs')
  t.ok(acked.length >= killedAt + 200, `sends succeed again after the restart (${acked.length - killedAt} more, ${failures} refused meanwhile)`)
  const present = new Set<string>()
  for (;;) {
    const batch = await node.queues.receive('w', { max: 100, visibilityTimeoutMs: 600_000 })
    if (batch.length === 0) break
    for (const m of batch) present.add(m.id)
  }
  t.same(acked.filter((id) => !present.has(id)), [], `all ${acked.length} acknowledged sends are there`)
})
