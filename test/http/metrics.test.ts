// GET /metrics beyond the HTTP counters: the WAL's group commit and fsync
// latency, actor mailboxes and restarts, shard waits and peer links, read
// from a real node after some traffic, in valid exposition text.
import t from 'tap'
import type { ActorFactory } from '../../src/runtime/index.js'
import { counterText, gaugeText, histogramText } from '../../src/http/prometheus-text.js'
import { call, eventually, metricValue, startTestNode, startTestServer, undocumentedAnswers } from './helpers.js'

const { node, close: closeNode } = await startTestNode()
const { server, base } = await startTestServer(node)
t.teardown(async () => {
  await server.close()
  await closeNode()
})

async function scrape(): Promise<string> {
  const answer = await call(base, 'GET', '/metrics')
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}`)
  return answer.text
}

/** Every sample of a family: labels (as text) → value. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (match && match[1] === name) found.set(match[2] ?? '', Number(match[3]))
  }
  return found
}

t.test('every line of the exposition is a comment or a well-formed sample, and no family is declared twice', async (t) => {
  await call(base, 'PUT', '/v1/queues/scraped', {})
  const text = await scrape()
  const malformed = text.split('\n').filter((line) => line !== '' && !line.startsWith('#') && !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfNa]+$/.test(line))
  t.same(malformed, [])
  const declared = text.split('\n').filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2])
  t.equal(new Set(declared).size, declared.length, 'each family once')
})

t.test('after durable writes (sync=always) the WAL series show batches, fsyncs and their latency', async (t) => {
  await call(base, 'PUT', '/v1/queues/walled', {})
  const messages = Array.from({ length: 50 }, (_, i) => ({ body: { i } }))
  t.equal((await call(base, 'POST', '/v1/queues/walled/messages', { messages })).status, 201)
  for (let i = 0; i < 5; i++) t.equal((await call(base, 'POST', '/v1/queues/walled/messages', { body: i })).status, 201)
  const text = await scrape()
  const batches = metricValue(text, 'troupe_wal_batches_total')!
  const fsyncs = metricValue(text, 'troupe_wal_fsyncs_total')!
  t.ok(batches >= 6, `at least one batch per acknowledged send (${batches})`)
  t.equal(fsyncs, batches, 'one fsync per batch with sync=always')
  const blocking = metricValue(text, 'troupe_wal_blocking_batches_total')!
  t.ok(blocking >= 0 && blocking <= batches, `batches written blocking the thread: ${blocking} of ${batches}`)
  t.ok(metricValue(text, 'troupe_wal_records_total')! >= batches)
  t.ok(metricValue(text, 'troupe_wal_written_bytes_total')! > 50 * 8, 'the batch of 50 bodies was written')

  const fsyncCount = metricValue(text, 'troupe_wal_fsync_duration_seconds_count')!
  t.equal(fsyncCount, fsyncs)
  const fsyncSum = metricValue(text, 'troupe_wal_fsync_duration_seconds_sum')!
  t.ok(fsyncSum > 0 && fsyncSum / fsyncCount < 10, `mean fsync ${(fsyncSum / fsyncCount) * 1000} ms is positive and below 10 s`)
  const buckets = [...samples(text, 'troupe_wal_fsync_duration_seconds_bucket').entries()]
  t.ok(buckets.length >= 10)
  t.same(buckets.at(-1), ['{le="+Inf"}', fsyncCount], 'the +Inf bucket holds every fsync')
  const counts = buckets.map(([, value]) => value)
  t.same(counts, [...counts].sort((a, b) => a - b), 'buckets are cumulative')
  t.ok(samples(text, 'troupe_wal_fsync_duration_seconds_bucket').has('{le="0.001"}'), 'bounds are in seconds')

  t.equal(metricValue(text, 'troupe_wal_batch_records_count'), batches)
  t.equal(metricValue(text, 'troupe_wal_batch_records_sum'), metricValue(text, 'troupe_wal_records_total'))
  t.equal(samples(text, 'troupe_wal_batch_records_bucket').get('{le="+Inf"}'), batches)
  t.equal(metricValue(text, 'troupe_wal_batch_bytes_sum'), metricValue(text, 'troupe_wal_written_bytes_total'))
  // The 50 messages are one Raft entry, one record of several hundred bytes.
  t.ok(samples(text, 'troupe_wal_batch_bytes_bucket').get('{le="256"}')! < batches, 'one batch or more is above 256 bytes')
})

t.test('mailbox depth per actor (thread and name) and restarts per actor', async (t) => {
  let releaseGate!: () => void
  const gate = new Promise<void>((resolve) => (releaseGate = resolve))
  const slow: ActorFactory<string, void> = () => ({
    async receive() {
      await gate
    },
  })
  const slowRef = await node.system.spawn(slow, { name: 'metrics-slow' })
  for (let i = 0; i < 5; i++) slowRef.tell(`m${i}`)
  const depth = await eventually(async () => {
    const value = metricValue(await scrape(), 'troupe_actor_mailbox_depth', 'actor="metrics-slow"')
    return value === 4 ? value : undefined
  }, 'four messages waiting behind the one being handled')
  t.equal(depth, 4)
  releaseGate()
  await eventually(async () => (metricValue(await scrape(), 'troupe_actor_mailbox_depth', 'actor="metrics-slow"') === 0 ? true : undefined), 'the mailbox to drain')

  const flaky: ActorFactory<string, string> = () => ({
    receive(message) {
      if (message === 'fail') throw new Error('deliberate failure for the restart counter')
      return 'ok'
    },
  })
  const flakyRef = await node.system.spawn(flaky, { name: 'metrics-flaky' })
  flakyRef.tell('fail')
  const restarts = await eventually(async () => {
    const value = metricValue(await scrape(), 'troupe_actor_restarts_total', 'actor="metrics-flaky"')
    return value !== undefined && value >= 1 ? value : undefined
  }, 'the restart to be counted')
  t.equal(restarts, 1)
  t.equal(await flakyRef.ask('again', { timeoutMs: 5_000 }), 'ok', 'the restarted actor serves')

  const text = await scrape()
  // One shard thread: the WAL writer shares it (walThread 'shared').
  t.equal(metricValue(text, 'troupe_actor_mailbox_depth', 'thread="shards-1",actor="wal-writer"') !== undefined, true, 'the WAL writer on the shard thread')
  t.equal(samples(text, 'troupe_actor_mailbox_depth').size >= 4 + 2, true, 'gateway, wal-writer and four shard actors at least')
  t.equal(metricValue(text, 'troupe_actor_restarts_total', 'actor="shard-0"'), 0)
})

t.test('parked long-polls show per shard; a single node has no peer links', async (t) => {
  await call(base, 'PUT', '/v1/queues/parking', {})
  const polling = call(base, 'POST', '/v1/queues/parking/receive', { waitMs: 15_000 })
  const parked = await eventually(async () => {
    const values = [...samples(await scrape(), 'troupe_shard_parked_receives').values()]
    return values.reduce((a, b) => a + b, 0) === 1 ? values : undefined
  }, 'the receive to park')
  t.equal(parked.length, 4, 'one series per shard of this node')
  await call(base, 'POST', '/v1/queues/parking/messages', { body: 'wake' })
  t.equal((await polling).status, 200)
  const text = await scrape()
  t.equal([...samples(text, 'troupe_shard_parked_receives').values()].reduce((a, b) => a + b, 0), 0)
  t.equal(samples(text, 'troupe_shard_pending_proposals').size, 4)
  for (const name of ['troupe_shard_snapshots_installed_total', 'troupe_shard_balance_transfers_total']) {
    t.same([...samples(text, name).values()], [0, 0, 0, 0], `${name}: one series per shard, nothing yet on a single node`)
  }
  t.ok(text.includes('# TYPE troupe_peer_up gauge'))
  t.equal(samples(text, 'troupe_peer_up').size, 0)
})

t.test('the write budget: bytes in flight and writes refused', async (t) => {
  const before = await scrape()
  t.equal(metricValue(before, 'troupe_node_write_bytes_in_flight'), 0)
  const refusedBefore = metricValue(before, 'troupe_node_writes_refused_total')!
  await call(base, 'PUT', '/v1/queues/budget', {})
  node.writes.take(node.writes.maxBytes)
  t.teardown(() => node.writes.give(node.writes.maxBytes))
  t.equal((await call(base, 'POST', '/v1/queues/budget/messages', { body: 'no room' })).status, 503)
  const after = await scrape()
  t.equal(metricValue(after, 'troupe_node_write_bytes_in_flight'), node.writes.maxBytes)
  t.equal(metricValue(after, 'troupe_node_writes_refused_total'), refusedBefore + 1)
})

t.test('every answer given in this file is documented in the OpenAPI document', async (t) => {
  t.same(await undocumentedAnswers(base), [])
})

t.test('exposition text helpers: label escaping, counters, cumulative histogram buckets in the scaled unit', async (t) => {
  t.equal(gaugeText('g', 'help', [{ labels: { a: 'x"y\\z\nw' }, value: 2 }]), '# HELP g help\n# TYPE g gauge\ng{a="x\\"y\\\\z\\nw"} 2\n')
  t.equal(counterText('c_total', 'h', [{ labels: {}, value: 3 }]), '# HELP c_total h\n# TYPE c_total counter\nc_total 3\n')
  t.equal(
    histogramText('h_seconds', 'h', { upperBounds: [0.5, 2], counts: [1, 2, 3], sum: 20, count: 6 }, 0.001),
    '# HELP h_seconds h\n# TYPE h_seconds histogram\nh_seconds_bucket{le="0.0005"} 1\nh_seconds_bucket{le="0.002"} 3\nh_seconds_bucket{le="+Inf"} 6\nh_seconds_sum 0.02\nh_seconds_count 6\n',
  )
})
