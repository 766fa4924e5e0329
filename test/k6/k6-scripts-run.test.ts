// Each k6 script run through the shim (shim/run-k6-script.ts) against a real
// node with a token: setup, a few iterations of every scenario, teardown.
// Every check passes, every request carries the token and its route tag, hits
// a route and status of the OpenAPI document, every per-route threshold names
// a tag the script really emits, and teardown leaves nothing behind. This
// shows the scripts speak the API as the server understands it; it measures
// nothing (that is k6's job, or `npm run bench -- load`).
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { call, startTestNode, startTestServer } from '../http/helpers.js'
import { openApiPathOf, REPO_ROOT, scriptPath, type OpenApiPaths, type ScriptName } from './k6-project.js'
import type { ShimRunConfig, ShimRunSummary } from './shim/run-k6-script.js'

const run = promisify(execFile)
const RUNNER = join(REPO_ROOT, 'dist', 'test', 'k6', 'shim', 'run-k6-script.js')
const RUN_TIMEOUT_MS = 90_000
const TOKEN = 'k6-shim-token'
const EXECUTORS = new Set(['constant-vus', 'constant-arrival-rate', 'ramping-arrival-rate'])

const { node, close: closeNode } = await startTestNode()
const { server, base } = await startTestServer(node, { token: TOKEN })
t.teardown(async () => {
  await server.close()
  await closeNode()
})
const auth = { authorization: `Bearer ${TOKEN}` }
const doc = (await call(base, 'GET', '/openapi.json')).json as OpenApiPaths

async function runScript(script: ScriptName, env: Record<string, string>, iterationsPerVu = 4): Promise<ShimRunSummary> {
  const config: ShimRunConfig = { env: { BASE_URL: base, ...env }, iterationsPerVu, vusMax: 2, seed: 7 }
  const { stdout } = await run(process.execPath, ['--enable-source-maps', RUNNER, scriptPath(script)], {
    env: { ...process.env, K6_SHIM_CONFIG: JSON.stringify(config) },
    timeout: RUN_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  })
  const lines = stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!) as ShimRunSummary
}

/** What every script must show; returns the tags its requests carried. */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

function checkCommon(t: TapTest, summary: ShimRunSummary): Set<string> {
  t.same(summary.errors, [], 'no exception in setup, iterations or teardown')
  t.equal(summary.requestsDropped, 0)
  for (const [name, count] of Object.entries(summary.iterations)) t.ok(count > 0, `scenario ${name} ran`)

  const checks = Object.entries(summary.checks)
  t.ok(checks.length > 0, 'the script checks its answers')
  t.same(
    checks.filter(([, count]) => count.fails > 0).map(([name, count]) => `${name}: ${count.fails} failed`),
    [],
    'every check passed',
  )

  const thresholds = summary.options.thresholds ?? {}
  t.same(thresholds['http_req_failed'], ['rate<0.01'])
  t.same(thresholds['checks'], ['rate>0.99'])
  t.match(thresholds['http_req_duration'], [/^p\(99\)<\d+$/])
  const scenarios = Object.entries(summary.options.scenarios ?? {})
  t.ok(scenarios.length >= 1, 'options.scenarios')
  for (const [name, scenario] of scenarios) {
    t.ok(EXECUTORS.has(String(scenario['executor'])), `scenario ${name} uses ${String(scenario['executor'])}`)
    t.match(scenario['duration'], /^(\d+(ms|s|m|h))+$/, `scenario ${name} has a duration`)
  }

  const tags = new Set<string>()
  const strays: string[] = []
  for (const request of summary.requests) {
    const { pathname } = new URL(request.url)
    const template = openApiPathOf(doc, request.method, pathname)
    const documented = template !== undefined && doc.paths[template]?.[request.method.toLowerCase()]?.responses[String(request.status)] !== undefined
    if (!documented || request.tag === undefined || request.authorization !== `Bearer ${TOKEN}`) {
      strays.push(`${request.method} ${pathname} -> ${request.status} tag=${request.tag ?? '-'} auth=${request.authorization ?? '-'}`)
    }
    if (request.tag !== undefined) tags.add(request.tag)
  }
  t.ok(summary.requests.length > 0, 'the script sent requests')
  t.same(strays, [], 'every request: a documented route and status, a name tag, the bearer token')

  for (const metric of Object.keys(thresholds)) {
    const tag = /^http_req_duration\{name:([^}]+)\}$/.exec(metric)?.[1]
    if (tag !== undefined) t.ok(tags.has(tag), `threshold ${metric} names a tag the script emits`)
  }
  return tags
}

function queueNamesOf(summary: ShimRunSummary): string[] {
  return summary.requests.filter((r) => r.tag === 'queue-put').map((r) => decodeURIComponent(new URL(r.url).pathname.split('/')[3] ?? ''))
}

async function remainingQueues(names: string[]): Promise<string[]> {
  const listed = (await call(base, 'GET', '/v1/queues', undefined, auth)).json as { queues: { name: string }[] }
  return listed.queues.map((q) => q.name).filter((name) => names.includes(name))
}

t.test('ingest.js: single and batch producers', async (t) => {
  const batch = 5
  const summary = await runScript('ingest', { TOKEN, BATCH: String(batch), QUEUES: '2' })
  const tags = checkCommon(t, summary)
  t.ok(tags.has('send') && tags.has('send-batch'), 'singles and batches were sent')
  const singles = summary.requests.filter((r) => r.tag === 'send').length
  const batches = summary.requests.filter((r) => r.tag === 'send-batch').length
  t.equal(summary.metrics['troupe_messages_sent']?.sum, singles + batches * batch, 'troupe_messages_sent counts every acknowledged message')
  const queues = queueNamesOf(summary)
  t.equal(queues.length, 2)
  t.same(await remainingQueues(queues), [], 'teardown deleted its queues')
})

t.test('drain.js: pre-filled queues, single and batch consumers, acks', async (t) => {
  const summary = await runScript('drain', { TOKEN, PREFILL: '60', PREFILL_BATCH: '10', WAIT_MS: '100', MAX: '5', QUEUES: '2' })
  const tags = checkCommon(t, summary)
  for (const tag of ['prefill', 'receive', 'ack', 'ack-batch']) t.ok(tags.has(tag), `${tag} requests`)
  const received = summary.metrics['troupe_messages_received']?.sum ?? 0
  t.ok(received > 0, 'messages were received')
  t.equal(summary.metrics['troupe_messages_acked']?.sum, received, 'every received message was acked')
  t.equal(summary.metrics['troupe_delivery_ms']?.count, received, 'one delivery latency per message')
  t.same(await remainingQueues(queueNamesOf(summary)), [], 'teardown deleted its queues')
})

t.test('mixed.js: producers and consumers on the same queues', async (t) => {
  // 8 sends over 5 queues: some queues hold one message (a single ack), others two (a batch ack).
  const summary = await runScript('mixed', { TOKEN, WAIT_MS: '100', QUEUES: '5' })
  const tags = checkCommon(t, summary)
  t.same(Object.keys(summary.options.scenarios ?? {}).sort(), ['consumers', 'producers'])
  t.ok(tags.has('send') && tags.has('receive'), 'both halves ran')
  const acked = summary.metrics['troupe_messages_acked']?.sum ?? 0
  t.ok(acked > 0, 'consumers acked what producers sent')
  t.ok(acked <= summary.requests.filter((r) => r.tag === 'send').length, 'never more acks than sends')
  t.same(await remainingQueues(queueNamesOf(summary)), [], 'teardown deleted its queues')
})

t.test('kv.js: writes with and without TTL, linearizable and stale reads', async (t) => {
  const summary = await runScript('kv', { TOKEN, KEYS: '20', READ_RATIO: '0.5', TTL_RATIO: '0.5', SETUP_PARALLEL: '4' }, 8)
  const tags = checkCommon(t, summary)
  for (const tag of ['kv-put', 'kv-put-ttl', 'kv-get-linearizable', 'kv-get-stale', 'kv-delete']) t.ok(tags.has(tag), `${tag} requests`)
  const ttlPut = summary.requests.find((r) => r.tag === 'kv-put-ttl')
  t.match(ttlPut?.url, /\?ttlMs=60000$/, 'TTL writes carry ttlMs')
  const setupKey = summary.requests.find((r) => r.tag === 'kv-put')
  const url = new URL(setupKey?.url ?? base)
  t.equal((await call(base, 'GET', url.pathname, undefined, auth)).status, 404, 'teardown deleted the keys setup wrote')
})

t.test('RATE switches the scenarios to an open loop (constant-arrival-rate)', async (t) => {
  const summary = await runScript('ingest', { TOKEN, RATE: '50', VUS: '3', QUEUES: '1', BATCH: '2' }, 1)
  checkCommon(t, summary)
  for (const [name, scenario] of Object.entries(summary.options.scenarios ?? {})) {
    t.match(scenario, { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s' }, name)
    t.ok(Number(scenario['maxVUs']) >= Number(scenario['preAllocatedVUs']), `${name}: maxVUs >= preAllocatedVUs`)
  }
})

t.test('negative control: without TOKEN the node refuses setup and the run reports it', async (t) => {
  const summary = await runScript('ingest', { QUEUES: '1' }, 1)
  t.equal(summary.errors.length, 1, 'setup failed, nothing else ran')
  t.match(summary.errors[0], /^setup: could not create queue .* -> 401/)
  t.match(summary.checks['queue-put: status 201 or 200'], { fails: 1 })
  t.same(summary.iterations, {})
})
