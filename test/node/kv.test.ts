// KV semantics through the embedding API on one real node.
import t from 'tap'
import { eventually, removeDir, startTestNode, tempDir } from './helpers.js'

const dir = await tempDir()
const node = await startTestNode(dir)
t.teardown(async () => {
  await node.close()
  await removeDir(dir)
})
const kv = node.kv
const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined)

t.test('put then get returns the value and its version; versions increase per key', async (t) => {
  const v1 = await kv.put('k', 'one')
  const v2 = await kv.put('k', 'two')
  t.ok(v2 > v1)
  const got = await kv.get('k')
  t.equal(text(got?.value), 'two')
  t.equal(got?.version, v2)
  t.equal(text((await kv.get('k', { consistency: 'stale' }))?.value), 'two')
})

t.test('ifVersion: a mismatch is a CONFLICT and changes nothing; 0 means create-only', async (t) => {
  const v = await kv.put('cas', 'a')
  await t.rejects(kv.put('cas', 'b', { ifVersion: v + 1000 }), { code: 'CONFLICT' })
  t.equal(text((await kv.get('cas'))?.value), 'a')
  const v2 = await kv.put('cas', 'b', { ifVersion: v })
  t.ok(v2 > v)
  await t.rejects(kv.put('cas', 'c', { ifVersion: 0 }), { code: 'CONFLICT' })
  await kv.put('fresh', 'x', { ifVersion: 0 })
})

t.test('delete removes the key; deleting a missing key is KEY_NOT_FOUND', async (t) => {
  await kv.put('gone', 'x')
  await kv.delete('gone')
  t.equal(await kv.get('gone'), undefined)
  await t.rejects(kv.delete('gone'), { code: 'KEY_NOT_FOUND' })
})

t.test('a key with a TTL disappears after it', async (t) => {
  await kv.put('ttl', 'x', { ttlMs: 200 })
  t.ok(await kv.get('ttl'))
  await eventually(async () => ((await kv.get('ttl')) === undefined ? true : undefined), 5_000, 'expiry')
  t.pass('expired')
})

t.test('versions keep increasing across delete and re-create', async (t) => {
  const v1 = await kv.put('again', 'x')
  await kv.delete('again')
  const v2 = await kv.put('again', 'y')
  t.ok(v2 > v1)
})

t.test('bad keys and oversized values are refused', async (t) => {
  await t.rejects(kv.put('', 'x'), { code: 'INVALID_ARGUMENT' })
  await t.rejects(kv.put('big', new Uint8Array(1024 * 1024 + 1)), { code: 'PAYLOAD_TOO_LARGE' })
  await t.rejects(kv.get('k'.repeat(1025)), { code: 'INVALID_ARGUMENT' })
})
