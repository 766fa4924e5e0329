// "A 2xx means committed, and it survives kill -9": a real node process is
// killed with SIGKILL while 16 writers append; after a restart on the same
// data directory every acknowledged write is there.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { removeDir, startTestNode, tempDir } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/kill-writer.js', import.meta.url))

t.test('a clean restart keeps queues, messages and keys', async (t) => {
  const dir = await tempDir()
  t.teardown(() => removeDir(dir))
  let node = await startTestNode(dir, { snapshotEveryEntries: 50 })
  await node.queues.put('keep', { maxReceives: 4 })
  const ids = await node.queues.sendBatch('keep', Array.from({ length: 120 }, (_, i) => ({ body: i })))
  for (let i = 0; i < 60; i++) await node.kv.put(`k${i % 7}`, `v${i}`)
  const versions = new Map<string, number>()
  for (let i = 0; i < 7; i++) versions.set(`k${i}`, (await node.kv.get(`k${i}`))!.version)
  await node.close()
  node = await startTestNode(dir, { snapshotEveryEntries: 50 })
  t.teardown(() => node.close())
  const info = await node.queues.get('keep')
  t.equal(info.config.maxReceives, 4)
  t.equal(info.stats.visible, 120)
  const received: string[] = []
  for (;;) {
    const batch = await node.queues.receive('keep', { max: 100 })
    if (batch.length === 0) break
    received.push(...batch.map((m) => m.id))
  }
  t.same(received.sort(), [...ids].sort())
  for (const [key, version] of versions) t.equal((await node.kv.get(key))?.version, version, `${key} kept its version`)
})

t.test('SIGKILL during concurrent writes loses no acknowledged write', async (t) => {
  const dir = await tempDir()
  t.teardown(() => removeDir(dir))
  const child = spawn(process.execPath, ['--enable-source-maps', fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const acked: string[] = []
  let buffered = ''
  const enough = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) if (line !== 'ready') acked.push(line)
      if (acked.length >= 600) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the writer exited early with code ${code}`)))
  })
  await enough
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  t.ok(acked.length >= 600, `${acked.length} writes were acknowledged before the kill`)

  const node = await startTestNode(dir, { snapshotEveryEntries: 200 })
  t.teardown(() => node.close())
  const present = new Set<string>()
  for (;;) {
    const batch = await node.queues.receive('durable', { max: 100, visibilityTimeoutMs: 60_000 })
    if (batch.length === 0) break
    for (const m of batch) present.add(m.id)
  }
  const ackedIds = acked.filter((l) => l.startsWith('q ')).map((l) => l.slice(2))
  const lost = ackedIds.filter((id) => !present.has(id))
  t.same(lost, [], `all ${ackedIds.length} acknowledged sends survived`)
  const latest = new Map<string, number>()
  for (const line of acked.filter((l) => l.startsWith('kv '))) {
    const [, key, version] = line.split(' ')
    latest.set(key!, Math.max(latest.get(key!) ?? 0, Number(version)))
  }
  for (const [key, version] of latest) {
    const got = await node.kv.get(key)
    t.ok(got && got.version >= version, `${key}: version ${got?.version} >= acknowledged ${version}`)
  }
})
