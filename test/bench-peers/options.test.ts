import t from 'tap'
import { DEFAULTS, LIMITS, parsePeersOptions, parseSystems, SYSTEMS } from '../../bench/peers/options.js'
import { PeerBenchError } from '../../bench/peers/peer-error.js'

const parse = (entries: [string, string | true][], json = false) => parsePeersOptions(new Map(entries), json)

t.test('defaults: every system, 32 callers, 256 bytes, 2 s warm-up and 10 s windows', async (t) => {
  const options = parse([])
  t.same(options.systems, [...SYSTEMS])
  t.equal(options.clients, DEFAULTS.clients)
  t.equal(options.sizeBytes, 256)
  t.equal(options.warmupMs, 2000)
  t.equal(options.durationMs, 10_000)
  t.equal(options.transport, 'tcp')
  t.equal(options.install, false)
  t.equal(options.smoke, false)
})

t.test('--only keeps the fixed run order whatever order it is given in, and ignores case and spaces', async (t) => {
  t.same(parseSystems('troupe, NATS ,redis'), ['nats', 'redis', 'troupe'])
  t.same(parse([['only', 'etcd']]).systems, ['etcd'])
})

t.test('--only rejects unknown systems and an empty list with INVALID_OPTION', async (t) => {
  t.throws(() => parseSystems('nats,kafka'), { code: 'INVALID_OPTION', message: /kafka/ })
  t.throws(() => parseSystems(true), PeerBenchError)
  t.throws(() => parseSystems(' '), { code: 'INVALID_OPTION' })
})

t.test('--smoke shortens the windows to 1 s unless --duration says otherwise', async (t) => {
  t.equal(parse([['smoke', true]]).durationMs, 1000)
  t.equal(parse([['smoke', true]]).warmupMs, 200)
  t.equal(parse([['smoke', true], ['duration', '3']]).durationMs, 3000)
})

t.test('numbers: --duration accepts fractions, --clients and --size must be whole, all positive and bounded', async (t) => {
  const options = parse([['duration', '2.5'], ['clients', '8'], ['size', '1024'], ['warmup', '0.5']])
  t.equal(options.durationMs, 2500)
  t.equal(options.warmupMs, 500)
  t.equal(options.clients, 8)
  t.equal(options.sizeBytes, 1024)
  t.throws(() => parse([['clients', '2.5']]), { code: 'INVALID_OPTION' })
  t.throws(() => parse([['size', '0']]), { code: 'INVALID_OPTION' })
  t.throws(() => parse([['clients', String(LIMITS.clients + 1)]]), { code: 'INVALID_OPTION', message: /at most/ })
  t.throws(() => parse([['duration', 'ten']]), { code: 'INVALID_OPTION' })
})

t.test('unknown options and flags given a value are refused rather than ignored', async (t) => {
  t.throws(() => parse([['clinets', '8']]), { code: 'INVALID_OPTION', message: /--clinets/ })
  t.throws(() => parse([['install', 'yes']]), { code: 'INVALID_OPTION' })
  t.equal(parse([['install', true]]).install, true)
  t.equal(parse([], true).json, true)
})

t.test('--transport picks the TCP SDK or the HTTP API for the Troupe rows, nothing else', async (t) => {
  t.equal(parse([['transport', 'http']]).transport, 'http')
  t.equal(parse([['transport', 'tcp']]).transport, 'tcp')
  t.throws(() => parse([['transport', 'grpc']]), { code: 'INVALID_OPTION' })
  t.throws(() => parse([['transport', true]]), { code: 'INVALID_OPTION' })
})
