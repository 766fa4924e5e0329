import t from 'tap'
import { spawn } from 'node:child_process'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SnapshotStore } from '../../src/wal/index.js'
import { sealSnapshot } from '../../src/wal/snapshot-format.js'
import { snapshotBody } from './snapshot-body.js'
import { tempDir } from './helpers.js'

t.test('saves and loads raw, compressed and msgpack snapshots', async (t) => {
  const dir = await tempDir(t)
  const store = new SnapshotStore({ dir, retainCount: 5 })
  t.teardown(() => store.close())
  t.equal(await store.load(3), undefined, 'no snapshot yet')
  const raw = Buffer.from('state of shard 3 at index 10')
  await store.save({ shard: 3, index: 10, term: 2 }, raw)
  t.match(await store.load(3), { shard: 3, index: 10, term: 2, payload: raw, skipped: [] })
  const big = snapshotBody(11)
  const saved = await store.save({ shard: 3, index: 11, term: 2 }, big, { compress: true })
  t.ok(saved.sizeBytes < big.byteLength / 4, `compressed ${big.byteLength} to ${saved.sizeBytes} bytes`)
  t.same(Buffer.from((await store.load(3))!.payload), big)
  const value = { queues: { jobs: [1, 2, 3] }, index: 2 ** 40, text: 'é' }
  await store.saveValue({ shard: 3, index: 12, term: 3 }, value, { compress: true })
  const loaded = await store.load(3)
  t.same(loaded?.value, value)
  t.same([loaded?.index, loaded?.term], [12, 3])
  t.equal(await store.load(4), undefined, 'shards are separate')
})

t.test('large compressed snapshots are sealed and verified in the piscina pool; uncompressed ones are only checksummed, here', async (t) => {
  const store = new SnapshotStore({ dir: await tempDir(t), offloadBytesMin: 64 * 1024 })
  t.teardown(() => store.close())
  await store.save({ shard: 1, index: 1, term: 1 }, Buffer.alloc(100, 1), { compress: true })
  t.same(store.stats(), { pooledTasks: 0, inlineTasks: 1 })
  const body = snapshotBody(2)
  await store.save({ shard: 1, index: 2, term: 1 }, body, { compress: true })
  t.same(store.stats(), { pooledTasks: 1, inlineTasks: 1 }, 'the large one was compressed and sealed in the pool')
  t.same(Buffer.from((await store.load(1))!.payload), body)
  await store.save({ shard: 1, index: 3, term: 1 }, body)
  const before = store.stats()
  t.same(before.pooledTasks, 1, 'an uncompressed save does not use the pool, however large')
  t.same(Buffer.from((await store.load(1))!.payload), body)
  t.same(store.stats().pooledTasks, 2, 'its large file is verified in the pool')
})

t.test('an uncompressed save writes the same bytes as sealSnapshot, across write slices and checksum slices', async (t) => {
  const dir = await tempDir(t)
  const store = new SnapshotStore({ dir })
  t.teardown(() => store.close())
  // Over two 8 MiB write slices and two 16 MiB checksum slices, not a multiple of either.
  const body = Buffer.alloc(40 * 1024 * 1024 + 4321)
  for (let offset = 0; offset + 4 <= body.byteLength; offset += 1024) body.writeUInt32LE((offset * 2654435761) >>> 0, offset)
  const meta = { shard: 6, index: 77, term: 3 }
  const saved = await store.save(meta, body)
  const written = await readFile(saved.path)
  t.equal(saved.sizeBytes, written.byteLength)
  t.ok(written.equals(sealSnapshot(meta, body, 0, 1)), 'byte for byte the image sealSnapshot makes')
})

t.test('a snapshot larger than a write slice (8 MiB) is written whole and loads back', async (t) => {
  const store = new SnapshotStore({ dir: await tempDir(t) })
  t.teardown(() => store.close())
  const body = Buffer.alloc(20 * 1024 * 1024 + 123)
  for (let offset = 0; offset + 4 <= body.byteLength; offset += 4096) body.writeUInt32LE(offset, offset)
  body[body.byteLength - 1] = 0xab
  await store.save({ shard: 4, index: 10, term: 2 }, body)
  const loaded = await store.load(4)
  t.equal(loaded!.payload.byteLength, body.byteLength)
  t.ok(Buffer.from(loaded!.payload).equals(body), 'every slice landed at its offset')
})

t.test('a damaged newest snapshot falls back to the older one', async (t) => {
  const dir = await tempDir(t)
  const store = new SnapshotStore({ dir, offloadBytesMin: 64 * 1024 })
  t.teardown(() => store.close())
  await store.save({ shard: 2, index: 5, term: 1 }, snapshotBody(5), { compress: true })
  const newest = await store.save({ shard: 2, index: 9, term: 2 }, snapshotBody(9))
  for (const offset of [3, 30, 70, 1000, newest.sizeBytes - 1]) {
    const clean = await readFile(newest.path)
    const damaged = Buffer.from(clean)
    damaged[offset]! ^= 0x40
    await writeFile(newest.path, damaged)
    const loaded = await store.load(2)
    t.equal(loaded?.index, 5, `byte ${offset} flipped: fell back to index 5`)
    t.equal(loaded?.skipped.length, 1)
    t.same(Buffer.from(loaded!.payload), snapshotBody(5))
    await writeFile(newest.path, clean)
  }
  // A truncated file is damaged too.
  await writeFile(newest.path, (await readFile(newest.path)).subarray(0, 5000))
  t.equal((await store.load(2))?.index, 5)
})

t.test('only the newest retainCount snapshots are kept', async (t) => {
  const dir = await tempDir(t)
  const store = new SnapshotStore({ dir, retainCount: 2 })
  t.teardown(() => store.close())
  for (let index = 1; index <= 5; index++) await store.save({ shard: 1, index, term: 1 }, Buffer.from(`s${index}`))
  t.same((await store.list(1)).map((f) => f.index), [5, 4])
})

t.test('kill -9 during snapshot writes always leaves a complete snapshot', async (t) => {
  const dir = await tempDir(t)
  const fixture = fileURLToPath(new URL('./fixtures/snapshot-writer.js', import.meta.url))
  let confirmed = 0
  for (let round = 0; round < 3; round++) {
    const lastSaved = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [fixture, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
      let last = 0
      let saves = 0
      let out = ''
      const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const lines = out.split('\n')
        out = lines.pop()!
        for (const line of lines) {
          if (!line.startsWith('saved ')) continue
          last = Number(line.slice(6))
          // Kill at a varying point, usually in the middle of the next save.
          if (++saves === 3 + round) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 40))
        }
      })
      child.on('error', reject)
      child.on('exit', (code, signal) => {
        clearTimeout(watchdog)
        if (signal === 'SIGKILL') resolve(last)
        else reject(new Error(`snapshot writer exited with ${code}`))
      })
    })
    confirmed = Math.max(confirmed, lastSaved)
    const store = new SnapshotStore({ dir })
    const loaded = await store.load(1)
    await store.close()
    t.ok(loaded !== undefined && loaded.index >= confirmed, `round ${round}: loaded ${loaded?.index}, confirmed ${confirmed}`)
    t.same(loaded?.skipped, [], 'no damaged snapshot was seen')
    t.ok(loaded !== undefined && Buffer.from(loaded.payload).equals(snapshotBody(loaded.index)), 'its body is the one saved for its index')
  }
  const leftovers = (await readdir(join(dir, 'shard-1'))).filter((n) => n.includes('.tmp-'))
  t.ok(leftovers.length <= 1, 'at most the temp file of the last killed save is left, and loads ignore it')
})
