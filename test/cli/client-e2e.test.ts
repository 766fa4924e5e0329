// The client commands end to end: `node dist/src/cli/troupe.js queue|kv|status`
// as child processes against a real `troupe start` node that requires a token.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { freePorts } from './helpers.js'
import { runCli, startNode, type CliResult } from './client-process.js'

// Each CLI run is a fresh Node process (about 0.4 s of CPU); on a loaded machine
// that adds up, so the file gets more than tap's default two minutes.
t.setTimeout(300_000)

const token = 'cli-e2e-token'
const dir = await mkdtemp(join(tmpdir(), 'troupe-cli-client-'))
const node = await startNode(dir, { env: { TROUPE_TOKEN: token } })
t.teardown(async () => {
  await node.stop()
  await rm(dir, { recursive: true, force: true })
})

const troupe = (args: string[], stdin?: string): Promise<CliResult> =>
  runCli(args, { env: { TROUPE_NODES: node.tcp, TROUPE_TOKEN: token }, ...(stdin !== undefined ? { stdin } : {}) })

function json<T>(result: CliResult): T {
  return JSON.parse(result.stdout) as T
}

interface Received {
  messages: { id: string; receipt: string; body: unknown; receiveCount: number }[]
}

t.test('queue create, send, stats, receive, ack, stats', async (t) => {
  const created = await troupe(['queue', 'create', 'jobs', '--visibility-timeout-ms', '60000', '--json'])
  t.equal(created.code, 0, created.stderr)
  t.match(json(created), { name: 'jobs', created: true, config: { visibilityTimeoutMs: 60000 } })

  const plain = await troupe(['queue', 'send', 'jobs', 'hello'])
  t.equal(plain.code, 0, plain.stderr)
  t.match(plain.stdout, /^\S+\n$/, 'one id')
  const urgent = await troupe(['queue', 'send', 'jobs', '{"n":1}', '--json-body', '--priority', '9', '--json'])
  const urgentId = json<{ id: string }>(urgent).id
  const fromStdin = await troupe(['queue', 'send', 'jobs', '-'], 'line a\nline b\n')
  t.equal(fromStdin.stdout.trim().split('\n').length, 2, 'one id per line of stdin')

  const before = json<{ stats: { visible: number; total: number } }>(await troupe(['queue', 'stats', 'jobs', '--json']))
  t.match(before.stats, { visible: 4, total: 4 })

  const received = json<Received>(await troupe(['queue', 'receive', 'jobs', '--max', '10', '--json']))
  t.equal(received.messages[0]!.id, urgentId, 'priority 9 comes first')
  t.same(received.messages[0]!.body, { n: 1 })
  t.same(received.messages.map((m) => m.body).slice(1), ['hello', 'line a', 'line b'])
  t.ok(received.messages.every((m) => m.receiveCount === 1))

  const acked = await troupe(['queue', 'ack', 'jobs', ...received.messages.map((m) => m.receipt)])
  t.equal(acked.code, 0, acked.stderr)
  t.equal(acked.stdout, 'acked 4 messages\n')
  const after = await troupe(['queue', 'stats', 'jobs'])
  t.match(after.stdout, /^visible +0$/m)
  t.match(after.stdout, /^inFlight +0$/m)
  t.match(after.stdout, /^total +0$/m)

  const again = await troupe(['queue', 'ack', 'jobs', received.messages[0]!.receipt])
  t.equal(again.code, 1, 'an acked receipt is gone')
  t.match(again.stderr, /^error RECEIPT_NOT_FOUND: /)

  await troupe(['queue', 'send', 'jobs', 'two\nlines'])
  const table = await troupe(['queue', 'receive', 'jobs', '--wait-ms', '2000'])
  t.match(table.stdout, /^ID +RECEIPT +RECEIVES +BODY\n\S+ +\S+ +1 +two\\nlines\n$/, 'human output: one aligned row')

  t.equal((await troupe(['queue', 'delete', 'jobs'])).code, 0)
  const gone = await troupe(['queue', 'stats', 'jobs'])
  t.equal(gone.code, 1)
  t.match(gone.stderr, /^error QUEUE_NOT_FOUND: .*jobs/)
  t.equal(gone.stdout, '')
})

t.test('kv put, get, del', async (t) => {
  const put = await troupe(['kv', 'put', 'greeting', 'hello'])
  t.equal(put.code, 0, put.stderr)
  const version = Number(/^version (\d+)\n$/.exec(put.stdout)?.[1])
  t.ok(version > 0, `version ${version}`)
  t.equal((await troupe(['kv', 'get', 'greeting'])).stdout, 'hello', 'the stored bytes, nothing added')
  t.same(json(await troupe(['kv', 'get', 'greeting', '--json', '--stale'])), { key: 'greeting', value: 'hello', encoding: 'utf8', version })

  const conflict = await troupe(['kv', 'put', 'greeting', 'other', '--if-version', String(version + 1000)])
  t.equal(conflict.code, 1)
  t.match(conflict.stderr, /^error CONFLICT: /)

  const multiline = 'first line\nsecond line\n'
  const fromStdin = await troupe(['kv', 'put', 'greeting', '-', '--if-version', String(version), '--json'], multiline)
  t.equal(fromStdin.code, 0, fromStdin.stderr)
  t.ok(json<{ version: number }>(fromStdin).version > version)
  t.equal((await troupe(['kv', 'get', 'greeting'])).stdout, multiline)

  t.equal((await troupe(['kv', 'del', 'greeting'])).stdout, "deleted key 'greeting'\n")
  const missing = await troupe(['kv', 'get', 'greeting'])
  t.equal(missing.code, 1)
  t.equal(missing.stderr, "error KEY_NOT_FOUND: key 'greeting' does not exist\n")
  const missingDel = await troupe(['kv', 'del', 'greeting', '--json'])
  t.equal(missingDel.code, 1)
  t.match(json(missingDel), { error: { code: 'KEY_NOT_FOUND' } })
})

t.test('status --json names the node and every shard', async (t) => {
  const result = await troupe(['status', '--json'])
  t.equal(result.code, 0, result.stderr)
  const status = json<{ node: number; shardCount: number; nodes: { id: number; tcp: string; state: string }[]; shards: { id: number; leader: number; lag: number | null; members: number[] }[] }>(result)
  t.equal(status.shardCount, 4)
  t.match(status.nodes, [{ id: 1, tcp: node.tcp, state: 'self' }])
  t.same(status.shards.map((s) => [s.id, s.leader, s.members, s.lag]), [0, 1, 2, 3].map((id) => [id, 1, [1], 0]))
  const human = await troupe(['status'])
  t.match(human.stdout, /^SHARD +LEADER +TERM +COMMIT +LAG +MEMBERS$/m)
})

t.test('failures exit 1 with the error code, usage errors exit 2', async (t) => {
  const noToken = await runCli(['kv', 'get', 'k', '--nodes', node.tcp])
  t.equal(noToken.code, 1)
  t.match(noToken.stderr, /^error UNAUTHORIZED: /)

  const [unused] = await freePorts(1)
  const nobody = await troupe(['queue', 'list', '--nodes', `127.0.0.1:${unused}`, '--timeout-ms', '500'])
  t.equal(nobody.code, 1)
  t.match(nobody.stderr, /^error (CONNECTION_FAILED|DEADLINE_EXCEEDED): /)

  const badName = await troupe(['queue', 'create', 'no spaces allowed'])
  t.equal(badName.code, 1)
  t.match(badName.stderr, /^error INVALID_ARGUMENT: /)

  const missingArgument = await troupe(['queue', 'send', 'jobs'])
  t.equal(missingArgument.code, 2)
  t.match(missingArgument.stderr, /^troupe queue send: expected 2 arguments/)
  t.equal(missingArgument.stdout, '')

  const help = await troupe(['queue', 'receive', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /follows it at\s+once/)
})

t.test('the node still stops cleanly after serving the CLI', async (t) => {
  t.equal(await node.stop(), 0)
})
