// `NodeOptions.signal` cancels a start that is waiting: `startNode` rejects
// with the signal's reason and stops what it had started (threads, WAL, the
// peer listener), so the same directory and ports can be used again at once.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, removeDir, startTestNode, tempDir } from './helpers.js'

t.test('a signal aborted before the start rejects at once and touches nothing', async (t) => {
  const dir = await tempDir()
  t.teardown(() => removeDir(dir))
  const reason = new Error('not now')
  const controller = new AbortController()
  controller.abort(reason)
  await t.rejects(startTestNode(join(dir, 'data'), { signal: controller.signal }), reason)
  t.notOk(existsSync(join(dir, 'data')), 'no data directory was made')
})

t.test('a start that waits for absent peers is cancelled, and frees its directory and ports', async (t) => {
  const dir = await tempDir()
  t.teardown(() => removeDir(dir))
  const ports = [await freePort(), await freePort(), await freePort()]
  // Members 2 and 3 never start: no shard can elect a leader.
  const options = { id: 1, cluster: ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(','), peer: `127.0.0.1:${ports[0]}`, readyTimeoutMs: 60_000 }
  for (const attempt of [1, 2]) {
    const controller = new AbortController()
    const reason = new Error(`cancelled, attempt ${attempt}`)
    const started = Date.now()
    const timer = setTimeout(() => controller.abort(reason), 500)
    // The second attempt would fail on the WAL's lock or the peer port if the first had left them held.
    await t.rejects(startTestNode(dir, { ...options, signal: controller.signal }), reason, `attempt ${attempt} rejects with the signal's reason`)
    clearTimeout(timer)
    t.ok(Date.now() - started < 30_000, `attempt ${attempt} ended on the signal, not on a timeout`)
  }
  t.ok(existsSync(join(dir, 'node.json')), 'a start cancelled while waiting for leaders keeps its node.json (its members are known)')
})
