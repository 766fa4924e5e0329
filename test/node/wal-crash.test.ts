// The WalWriter runs under the node's storage supervisor (rest-for-one),
// either on a worker thread of its own (walThread 'own') or as the first actor
// on the first shard thread ('shared', the default with one shard thread).
// When its thread dies, the supervisor starts a new writer and (re)starts the
// shards after it, which recover from the WAL: the node serves again and no
// acknowledged write is lost.
import t from 'tap'
import type { Supervisor, ThreadHost } from '../../src/runtime/index.js'
import { removeDir, startTestNode, tempDir } from './helpers.js'

for (const walThread of ['own', 'shared'] as const) {
  t.test(`killing the WAL writer's thread (walThread ${walThread}) under load loses no acknowledged send`, async (t) => {
    const dir = await tempDir()
    t.teardown(() => removeDir(dir))
    const node = await startTestNode(dir, { snapshotEveryEntries: 150, walThread })
    t.teardown(() => node.close())
    const storage = node.system.root.child<Supervisor>('storage')
    const hostIds = storage.whichChildren().map((child) => child.id)
    t.same(hostIds, walThread === 'own' ? ['wal', 'shards-1'] : ['shards-1'], 'the threads of the storage supervisor')
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
    const walHost = storage.child<ThreadHost>(hostIds[0]!)
    t.ok(walHost.supervisor.whichChildren().some((child) => child.id === 'wal-writer'), `the writer runs on ${hostIds[0]}`)
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
}
