// The HTTP transport against a small local server: status errors carry the
// server's code, and a worker whose node refuses connections moves to the
// next node.
import http from 'node:http'
import t from 'tap'
import { HttpTransport } from '../../bench/load/http-transport.js'
import { LoadError } from '../../bench/load/load-error.js'
import { freePorts } from '../../bench/load/local-cluster.js'

async function server(handler: http.RequestListener): Promise<{ address: string; close(): Promise<void> }> {
  const s = http.createServer(handler)
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  return {
    address: `127.0.0.1:${(s.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => s.close(() => resolve())),
  }
}

t.test('an error answer is counted under its status and code', async (t) => {
  const live = await server((req, res) => {
    req.resume()
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAVAILABLE","message":"no leader"}}')
  })
  const transport = new HttpTransport({ addresses: [live.address], maxSockets: 2 })
  t.teardown(async () => {
    await transport.close()
    await live.close()
  })
  const error = await transport.client(0).send('q', { n: 1 }).then(() => undefined, (e: unknown) => e)
  t.ok(error instanceof LoadError)
  t.equal((error as LoadError).code, 'UNEXPECTED_STATUS')
  t.equal((error as LoadError).tally, 'HTTP_503_UNAVAILABLE')
})

t.test('a worker whose node refuses connections moves to the next node', async (t) => {
  const paths: string[] = []
  const live = await server((req, res) => {
    paths.push(`${req.method} ${req.url}`)
    req.resume()
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"1"}')
  })
  const [deadPort] = await freePorts(1)
  // Worker 0 prefers the dead address (index 0), worker 1 the live one.
  const transport = new HttpTransport({ addresses: [`127.0.0.1:${deadPort}`, live.address], maxSockets: 2, returnAfterMs: 60_000 })
  t.teardown(async () => {
    await transport.close()
    await live.close()
  })
  const worker = transport.client(0)
  const first = await worker.send('q', { n: 1 }).then(() => undefined, (e: unknown) => e)
  t.equal((first as LoadError).code, 'CONNECTION_FAILED')
  t.equal((first as LoadError).tally, 'ECONNREFUSED')
  t.same(paths, [], 'nothing reached the live node yet')
  await worker.send('q', { n: 2 })
  t.same(paths, ['POST /v1/queues/q/messages'], 'the next request went to the live node')
})
