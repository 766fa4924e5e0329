// One quick run against a real redis-server, only when the binary is there:
// CI machines may not have it, and the test suite never installs packages.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { BINARIES, findExecutable } from '../../bench/peers/binaries.js'
import { runRedis } from '../../bench/peers/redis-peer.js'

const missing = findExecutable(BINARIES.redis.command) === undefined

t.test('Redis SET and GET rows run against a real redis-server and it is stopped after', { skip: missing ? 'redis-server is not installed (apt-get install -y redis-server)' : false }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'peers-redis-smoke-'))
  try {
    const rows = await runRedis({ clients: 4, warmupMs: 50, durationMs: 300, sizeBytes: 64, transport: 'tcp', dataDir, install: false, log: () => undefined })
    t.same(rows.map((r) => r.workload), ['kv-put', 'kv-get'])
    for (const row of rows) {
      t.equal(row.result.errors, 0, `${row.workload}: ${row.result.firstError ?? ''}`)
      t.ok(row.result.calls > 0, `${row.workload} completed calls`)
      t.match(row.conditions, /appendfsync always/)
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
