// The load command's options: defaults, limits, and --target forms.
import t from 'tap'
import { LoadError } from '../../bench/load/load-error.js'
import { parseLoadSettings, parseTargets } from '../../bench/load/load-settings.js'

const parse = (pairs: Record<string, string | true>) => parseLoadSettings(new Map(Object.entries(pairs)), {})

t.test('defaults', async (t) => {
  const s = parse({})
  t.same([s.scenario, s.transport, s.nodeCount, s.mode, s.concurrency, s.durationMs, s.warmupMs, s.targets], ['ingest', 'http', 1, 'closed', 32, 10_000, 2000, []])
  t.equal(parse({ mode: 'open' }).concurrency, 256, 'the open loop caps in-flight requests at 256 by default')
  t.equal(parse({ warmup: '0', 'read-percent': '0', 'wait-ms': '0' }).warmupMs, 0, 'zero is allowed where it means "none"')
})

t.test('rejects what it cannot run', async (t) => {
  const bads: Record<string, string | true>[] = [{ scenario: 'bogus' }, { nodes: '2' }, { transport: 'udp' }, { 'batch-size': '1001' }, { 'receive-max': '101' }, { 'read-percent': '101' }, { concurrency: '100000' }, { target: true }]
  for (const bad of bads) {
    t.throws(() => parse(bad), LoadError, JSON.stringify(bad))
  }
})

t.test('targets as URLs or host:port, comma-separated', async (t) => {
  t.same(parseTargets('http://127.0.0.1:7280/, 127.0.0.1:7290,https://h:1/x'), ['127.0.0.1:7280', '127.0.0.1:7290', 'h:1'])
})
