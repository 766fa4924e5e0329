// `troupe start` serves the client protocol on --listen: the ready line names
// the bound address, TROUPE_TOKEN guards the hello, and SIGTERM ends client
// connections with a connection-level UNAVAILABLE before the process exits 0.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePorts } from '../cli/helpers.js'
import { removeDir, tempDir } from '../node/helpers.js'
import { ok, WireClient } from './client-wire.js'

const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))

t.test('troupe start: tcp=<bound address> in the ready line, token checked, SIGTERM sends UNAVAILABLE', async (t) => {
  const dir = await tempDir('troupe-client-process-')
  t.teardown(() => removeDir(dir))
  const [httpPort, peerPort] = await freePorts(2)
  const args = [bin, 'start', '--data', join(dir, 'node'), '--http', `127.0.0.1:${httpPort}`, '--listen', '127.0.0.1:0', '--peer', `127.0.0.1:${peerPort}`, '--shards', '2', '--threads', '1', '--sync', 'none']
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'error', TROUPE_TOKEN: 'tok' } })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const ready = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      output += chunk
      const line = output.split('\n').find((l) => l.startsWith('troupe node 1 ready'))
      if (line !== undefined) resolve(line)
    })
    void exited.then((code) => reject(new Error(`the node exited with ${code} before it was ready`)))
  })
  const tcp = /tcp=127\.0\.0\.1:(\d+) /.exec(ready)
  t.ok(tcp !== null && Number(tcp[1]) > 0, `the ready line names the bound port: ${ready}`)
  const port = Number(tcp![1])

  const refused = await WireClient.connect(port, { token: 'nope' })
  t.match(refused.welcome, { id: null, error: { code: 'UNAUTHORIZED' } })
  await refused.client.closed

  const { client, welcome } = await WireClient.connect(port, { token: 'tok' })
  t.teardown(() => client.close())
  t.match(welcome, { op: 'welcome', node: 1, shards: 2 })
  const map = ok<{ nodes: { id: number; tcp: string; http: string }[] }>(await client.request('cluster'))
  t.match(map.nodes, [{ id: 1, tcp: `127.0.0.1:${port}`, http: `127.0.0.1:${httpPort}` }])
  ok(await client.request('queue.put', { queue: 'q' }))
  t.match(ok(await client.request('send', { queue: 'q', body: 'hello' })), { id: String })

  child.kill('SIGTERM')
  t.match(await client.nextUnsolicited(), { id: null, ok: false, error: { code: 'UNAVAILABLE' } })
  await client.closed
  t.equal(await exited, 0, 'the node exits 0')
})
