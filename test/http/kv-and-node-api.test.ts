// The KV and node routes of CONTRACT §4 through real HTTP against a real
// node, and the OpenAPI document against the routes the server answers.
import t from 'tap'
import { ackOneSchema, queueConfigSchema, receiveSchema, sendBatchSchema, sendOneSchema } from '../../src/http/request-schemas.js'
import { call, errorOf, eventually, metricValue, startTestNode, startTestServer, undocumentedAnswers } from './helpers.js'

const { node, close: closeNode } = await startTestNode()
const { server, base } = await startTestServer(node, { advertise: { tcp: '127.0.0.1:7281', peer: '127.0.0.1:7282' } })
t.teardown(async () => {
  await server.close()
  await closeNode()
})

t.test('PUT stores raw bytes and GET returns them with X-Version', async (t) => {
  const value = Uint8Array.from([0, 255, 10, 13, 128, 1])
  const put = await call(base, 'PUT', '/v1/kv/binary', value)
  t.equal(put.status, 200)
  const { version } = put.json as { version: number }
  t.ok(Number.isSafeInteger(version) && version > 0)
  const response = await fetch(`${base}/v1/kv/binary`)
  t.equal(response.status, 200)
  t.equal(response.headers.get('x-version'), String(version))
  t.equal(response.headers.get('content-type'), 'application/octet-stream')
  t.same(new Uint8Array(await response.arrayBuffer()), value)
  const stale = await call(base, 'GET', '/v1/kv/binary?consistency=stale')
  t.equal(stale.status, 200)
  const linearizable = await call(base, 'GET', '/v1/kv/binary?consistency=linearizable')
  t.equal(linearizable.headers.get('x-version'), String(version))
  const empty = await call(base, 'PUT', '/v1/kv/empty', '')
  t.equal(empty.status, 200, 'an empty value is a value')
  t.equal((await call(base, 'GET', '/v1/kv/empty')).text, '')
})

t.test('keys are URL-decoded from the path, slashes and unicode included', async (t) => {
  const key = 'users/ünïcode key?&=#'
  t.equal((await call(base, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, 'v1')).status, 200)
  t.equal((await call(base, 'GET', `/v1/kv/${encodeURIComponent(key)}`)).text, 'v1')
  t.equal((await node.kv.get(key))?.value.length, 2, 'the node holds the decoded key')
  t.equal((await call(base, 'GET', '/v1/kv/a/b/c')).status, 404, 'unencoded slashes are part of the key')
  t.equal((await call(base, 'PUT', '/v1/kv/a/b/c', 'x')).status, 200)
  t.equal((await call(base, 'GET', '/v1/kv/a%2Fb%2Fc')).text, 'x')
  const badEncoding = await call(base, 'GET', '/v1/kv/%E0%A4%A')
  t.match(errorOf(badEncoding), { code: 'INVALID_ARGUMENT', field: 'key' })
  const longKey = await call(base, 'PUT', `/v1/kv/${'k'.repeat(1025)}`, 'x')
  t.match(errorOf(longKey), { code: 'INVALID_ARGUMENT', field: 'key' })
  t.equal((await call(base, 'PUT', `/v1/kv/${'k'.repeat(1024)}`, 'x')).status, 200, '1024 bytes is allowed')
})

t.test('ifVersion: a mismatch answers 409 CONFLICT and changes nothing', async (t) => {
  const v1 = ((await call(base, 'PUT', '/v1/kv/cas', 'one')).json as { version: number }).version
  const conflict = await call(base, 'PUT', `/v1/kv/cas?ifVersion=${v1 + 1000}`, 'two')
  t.equal(conflict.status, 409)
  t.equal(errorOf(conflict).code, 'CONFLICT')
  const createOnly = await call(base, 'PUT', '/v1/kv/cas?ifVersion=0', 'two')
  t.equal(errorOf(createOnly).code, 'CONFLICT', 'ifVersion=0 means the key must not exist')
  t.equal((await call(base, 'GET', '/v1/kv/cas')).text, 'one')
  const ok = await call(base, 'PUT', `/v1/kv/cas?ifVersion=${v1}`, 'two')
  t.equal(ok.status, 200)
  t.ok((ok.json as { version: number }).version > v1)
  const deleteConflict = await call(base, 'DELETE', `/v1/kv/cas?ifVersion=${v1}`)
  t.equal(errorOf(deleteConflict).code, 'CONFLICT')
  t.equal((await call(base, 'GET', '/v1/kv/cas')).text, 'two')
})

t.test('missing keys answer 404 KEY_NOT_FOUND; DELETE answers 204 then 404', async (t) => {
  const missing = await call(base, 'GET', '/v1/kv/never-written')
  t.equal(missing.status, 404)
  t.equal(errorOf(missing).code, 'KEY_NOT_FOUND')
  await call(base, 'PUT', '/v1/kv/doomed', 'x')
  t.equal((await call(base, 'DELETE', '/v1/kv/doomed')).status, 204)
  t.equal((await call(base, 'GET', '/v1/kv/doomed')).status, 404)
  t.equal(errorOf(await call(base, 'DELETE', '/v1/kv/doomed')).code, 'KEY_NOT_FOUND')
})

t.test('bad queries and oversize values are refused and change nothing', async (t) => {
  const v1 = ((await call(base, 'PUT', '/v1/kv/guarded', 'kept')).json as { version: number }).version
  const refusals: [string, string, string | Uint8Array, number, string][] = [
    ['PUT', '/v1/kv/guarded?ttlMs=-1', 'x', 400, 'query.ttlMs'],
    ['PUT', '/v1/kv/guarded?ttlMs=soon', 'x', 400, 'query.ttlMs'],
    ['PUT', '/v1/kv/guarded?ifVersion=1.5', 'x', 400, 'query.ifVersion'],
    ['PUT', '/v1/kv/guarded?ifVersion=1&ifVersion=2', 'x', 400, 'query.ifVersion'],
    ['PUT', '/v1/kv/guarded?ttl=5', 'x', 400, 'query.ttl'],
    ['GET', '/v1/kv/guarded?consistency=eventual', '', 400, 'query.consistency'],
    ['DELETE', '/v1/kv/guarded?ifVersion=0', '', 400, 'query.ifVersion'],
  ]
  for (const [method, path, body, status, field] of refusals) {
    const answer = await call(base, method, path, method === 'PUT' ? body : undefined)
    t.equal(answer.status, status, `${method} ${path}`)
    t.match(errorOf(answer), { code: 'INVALID_ARGUMENT', field }, `${method} ${path}`)
  }
  const tooLarge = await call(base, 'PUT', '/v1/kv/guarded', new Uint8Array(1024 * 1024 + 1))
  t.equal(tooLarge.status, 413)
  t.equal(errorOf(tooLarge).code, 'PAYLOAD_TOO_LARGE')
  t.equal((await call(base, 'PUT', '/v1/kv/max-size', new Uint8Array(1024 * 1024))).status, 200, 'exactly 1 MiB is allowed')
  const after = await call(base, 'GET', '/v1/kv/guarded')
  t.equal(after.text, 'kept')
  t.equal(after.headers.get('x-version'), String(v1))
})

t.test('a ttlMs makes the key expire', async (t) => {
  t.equal((await call(base, 'PUT', '/v1/kv/short-lived?ttlMs=1', 'x')).status, 200)
  // Expiry is judged against the leader's clock as stamped in the log, so it shows once the shard moved on.
  const status = await eventually(async () => {
    const answer = await call(base, 'GET', '/v1/kv/short-lived')
    return answer.status === 404 ? answer : undefined
  }, 'the key to expire')
  t.equal(errorOf(status).code, 'KEY_NOT_FOUND')
})

t.test('/health and /ready answer 200 with the node id', async (t) => {
  const health = await call(base, 'GET', '/health')
  t.equal(health.status, 200)
  t.same(health.json, { status: 'ok', node: 1 })
  const ready = await call(base, 'GET', '/ready')
  t.equal(ready.status, 200)
  t.match(ready.json, { status: 'ready', node: 1 })
})

t.test('/v1/cluster has the contract shape', async (t) => {
  const answer = await call(base, 'GET', '/v1/cluster')
  t.equal(answer.status, 200)
  const cluster = answer.json as { node: number; nodes: Record<string, unknown>[]; shards: Record<string, unknown>[] }
  t.equal(cluster.node, 1)
  t.same(cluster.nodes, [{ id: 1, peer: '127.0.0.1:7282', http: `127.0.0.1:${server.address.port}`, tcp: '127.0.0.1:7281', state: 'up' }])
  t.equal(cluster.shards.length, 4)
  for (const shard of cluster.shards) {
    t.same(Object.keys(shard).sort(), ['commitIndex', 'id', 'leader', 'members', 'term'])
    t.equal(shard['leader'], 1)
    t.same(shard['members'], [1])
  }
})

t.test('DELETE /v1/cluster/nodes/{id} refuses a bad id, a node that is not a member and the only voting member', async (t) => {
  for (const [path, message] of [
    ['/v1/cluster/nodes/0', /positive integer/],
    ['/v1/cluster/nodes/x1', /positive integer/],
    ['/v1/cluster/nodes/2', /node 2 is not a member/],
    ['/v1/cluster/nodes/1', /node 1 is the cluster's only voting member/],
  ] as const) {
    const answer = await call(base, 'DELETE', path)
    t.equal(answer.status, 400, path)
    t.equal(errorOf(answer).code, 'INVALID_ARGUMENT', path)
    t.match(errorOf(answer).message, message, path)
  }
  t.same(((await call(base, 'GET', '/v1/cluster')).json as { nodes: { id: number }[] }).nodes.map((n) => n.id), [1], 'nothing changed')
})

t.test('/metrics exposes HTTP, queue and Raft metrics in Prometheus text', async (t) => {
  await call(base, 'PUT', '/v1/queues/metered', {})
  await call(base, 'POST', '/v1/queues/metered/messages', { messages: [{ body: 1 }, { body: 2 }, { body: 3 }] })
  await call(base, 'POST', '/v1/queues/metered/receive', {})
  const answer = await call(base, 'GET', '/metrics')
  t.equal(answer.status, 200)
  t.match(answer.headers.get('content-type'), /^text\/plain/)
  const text = answer.text
  t.equal(metricValue(text, 'troupe_queue_messages', 'queue="metered",state="visible"'), 2)
  t.equal(metricValue(text, 'troupe_queue_messages', 'queue="metered",state="inFlight"'), 1)
  t.equal(metricValue(text, 'troupe_queue_events_total', 'queue="metered",event="sent"'), 3)
  t.ok((metricValue(text, 'troupe_http_requests_total', 'route="/v1/queues/{name}/messages",method="POST",status="201"') ?? 0) >= 1)
  t.ok((metricValue(text, 'troupe_http_request_duration_seconds_count', 'route="/v1/queues/{name}/messages",method="POST",status="201"') ?? 0) >= 1)
  for (let shard = 0; shard < 4; shard++) {
    t.ok((metricValue(text, 'troupe_raft_term', `shard="${shard}"`) ?? 0) >= 1, `term of shard ${shard}`)
    t.ok((metricValue(text, 'troupe_raft_commit_index', `shard="${shard}"`) ?? 0) >= 1)
    t.ok(metricValue(text, 'troupe_raft_applied_index', `shard="${shard}"`) !== undefined)
  }
  t.equal(metricValue(text, 'troupe_http_in_flight_requests'), 1, 'the scrape itself is in flight')
  t.notOk(text.includes('route="/v1/queues/metered'), 'routes are labelled by pattern, not by path')
})

t.test('unknown routes answer 404 ROUTE_NOT_FOUND and wrong methods 405 METHOD_NOT_ALLOWED', async (t) => {
  const unknown = await call(base, 'GET', '/v2/queues')
  t.equal(unknown.status, 404)
  t.equal(errorOf(unknown).code, 'ROUTE_NOT_FOUND')
  const wrong = await call(base, 'PATCH', '/v1/kv/key', 'x')
  t.equal(wrong.status, 405)
  t.equal(errorOf(wrong).code, 'METHOD_NOT_ALLOWED')
  t.equal((await call(base, 'GET', '/v1/queues/q/receive')).status, 405)
})

t.test('/openapi.json documents exactly the routes the server answers, with the schemas it validates with', async (t) => {
  const answer = await call(base, 'GET', '/openapi.json')
  t.equal(answer.status, 200)
  type Operation = { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> }
  const doc = answer.json as { openapi: string; paths: Record<string, Record<string, Operation>> }
  t.equal(doc.openapi, '3.1.0')
  const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
  t.same(documented.sort(), [
    'DELETE /v1/cluster/nodes/{id}',
    'DELETE /v1/kv/{key}',
    'DELETE /v1/queues/{name}',
    'GET /health',
    'GET /metrics',
    'GET /openapi.json',
    'GET /ready',
    'GET /v1/cluster',
    'GET /v1/kv/{key}',
    'GET /v1/queues',
    'GET /v1/queues/{name}',
    'POST /v1/queues/{name}/ack',
    'POST /v1/queues/{name}/messages',
    'POST /v1/queues/{name}/nack',
    'POST /v1/queues/{name}/purge',
    'POST /v1/queues/{name}/receive',
    'POST /v1/queues/{name}/visibility',
    'PUT /v1/kv/{key}',
    'PUT /v1/queues/{name}',
  ])
  // Every documented operation is routed (neither 404 ROUTE_NOT_FOUND nor 405).
  for (const entry of documented) {
    const [method, path] = entry.split(' ') as [string, string]
    const concrete = path.replace('{name}', 'openapi-probe').replace('{key}', 'openapi-probe')
    const probe = await call(base, method, concrete, method === 'PUT' && path.startsWith('/v1/kv') ? 'x' : method === 'GET' || method === 'DELETE' ? undefined : {})
    t.notOk(probe.status === 405 || (probe.status === 404 && errorOf(probe).code === 'ROUTE_NOT_FOUND'), `${entry} is routed (answered ${probe.status})`)
  }
  const schemaOf = (path: string, method: string) => doc.paths[path]?.[method]?.requestBody?.content['application/json']?.schema
  t.same(schemaOf('/v1/queues/{name}', 'put'), queueConfigSchema)
  t.same(schemaOf('/v1/queues/{name}/receive', 'post'), receiveSchema)
  t.same(schemaOf('/v1/queues/{name}/messages', 'post'), { oneOf: [sendOneSchema, sendBatchSchema] })
  t.match(schemaOf('/v1/queues/{name}/ack', 'post'), { oneOf: [ackOneSchema] })
})

t.test('every answer given in this file is documented in the OpenAPI document', async (t) => {
  t.same(await undocumentedAnswers(base), [])
})
