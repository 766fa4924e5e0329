// The client commands against an in-memory client: argument parsing, what
// reaches the SDK, what is printed, and the exit codes (0 ok, 1 failed, 2 usage).
import { Readable } from 'node:stream'
import t from 'tap'
import { commonSettings, integerFlag, parseNodeList } from '../../src/cli/client-args.js'
import { bodyText, errorDocument, errorLine, jsonText, keyValues, table } from '../../src/cli/client-format.js'
import { readAllBounded, readLines } from '../../src/cli/client-io.js'
import { shardRows, statusCommand, type NodeView } from '../../src/cli/client-status-command.js'
import { allClientCommands } from '../../src/cli/client-commands.js'
import { FakeClient, FakeClientError, run } from './client-fakes.js'

async function collectLines(chunks: Buffer[], maxLineBytes: number) {
  const lines: { line: string; lineNumber: number }[] = []
  for await (const line of readLines(Readable.from(chunks), maxLineBytes)) lines.push(line)
  return lines
}

t.test('--nodes takes host:port lists and rejects anything else', async (t) => {
  t.same(parseNodeList('127.0.0.1:7281, node-b:7291,'), ['127.0.0.1:7281', 'node-b:7291'])
  t.same(parseNodeList('[::1]:7281'), ['[::1]:7281'])
  for (const bad of ['', ',', 'localhost', ':7281', 'host:0', 'host:65536', 'host:12a']) {
    t.throws(() => parseNodeList(bad), { name: 'ClientUsageError' }, `'${bad}' is refused`)
  }
})

t.test('integer flags are whole numbers within their range', async (t) => {
  t.equal(integerFlag({ n: '42' }, 'n'), 42)
  t.equal(integerFlag({}, 'n'), undefined)
  t.equal(integerFlag({ n: '9' }, 'n', { min: 0, max: 9 }), 9)
  for (const bad of ['-1', '1.5', 'ten', '', '10']) {
    t.throws(() => integerFlag({ n: bad }, 'n', { min: 0, max: 9 }), { message: /--n must be a whole number from 0 to 9/ })
  }
})

t.test('settings: --nodes over TROUPE_NODES over the default; the token only from TROUPE_TOKEN', async (t) => {
  t.same(commonSettings({}, {}), { nodes: ['127.0.0.1:7281'], token: undefined, timeoutMs: 10_000, json: false })
  t.same(commonSettings({}, { TROUPE_NODES: 'a:1,b:2', TROUPE_TOKEN: 's3' }).nodes, ['a:1', 'b:2'])
  t.equal(commonSettings({}, { TROUPE_TOKEN: 's3' }).token, 's3')
  t.equal(commonSettings({}, { TROUPE_TOKEN: '' }).token, undefined)
  t.same(commonSettings({ nodes: 'c:3', 'timeout-ms': '250', json: true }, { TROUPE_NODES: 'a:1' }), { nodes: ['c:3'], token: undefined, timeoutMs: 250, json: true })
})

t.test('tables and key-value lists are aligned and end with a newline', async (t) => {
  t.equal(table(['ID', 'NAME'], [['1', 'alpha'], ['100', 'b']]), 'ID   NAME\n1    alpha\n100  b\n')
  t.equal(keyValues([['a', '1'], ['long', '2']]), 'a     1\nlong  2\n')
})

t.test('JSON output turns bytes into base64 and bigints into strings', async (t) => {
  t.equal(jsonText({ b: Buffer.from('hi'), n: 12n, u: new Uint8Array([255]) }), '{"b":{"$base64":"aGk="},"n":"12","u":{"$base64":"/w=="}}')
  t.equal(bodyText('two\nlines'), 'two\\nlines')
  t.equal(bodyText({ a: [1, 'x'] }), '{"a":[1,"x"]}')
  t.equal(errorLine({ code: 'RECEIPT_NOT_FOUND', message: '1 receipt not found', missing: ['r1', 'r2'] }), 'error RECEIPT_NOT_FOUND: 1 receipt not found (missing: r1, r2)\n')
  t.same(errorDocument({ code: 'DEADLINE_EXCEEDED', message: 'gave up', attempts: 7 }), { error: { code: 'DEADLINE_EXCEEDED', message: 'gave up', attempts: 7 } })
})

t.test('stdin lines: CRLF, blank lines skipped but counted, characters split across chunks', async (t) => {
  const euro = Buffer.from('€')
  const chunks = [Buffer.from('one\r\n\n  \ntw'), Buffer.concat([Buffer.from('o '), euro.subarray(0, 1)]), Buffer.concat([euro.subarray(1), Buffer.from('\nthree')])]
  t.same(await collectLines(chunks, 100), [
    { line: 'one', lineNumber: 1 },
    { line: 'two €', lineNumber: 4 },
    { line: 'three', lineNumber: 5 },
  ])
})

t.test('a stdin line over the limit fails before it is held whole', async (t) => {
  await t.rejects(collectLines([Buffer.from('ok\n'), Buffer.alloc(8, 0x61), Buffer.alloc(8, 0x61)], 10), { code: 'PAYLOAD_TOO_LARGE', message: /line 2 of stdin/ })
  await t.rejects(collectLines([Buffer.from('0123456789A\n')], 10), { code: 'PAYLOAD_TOO_LARGE', message: /line 1 of stdin/ })
  t.same(await collectLines([Buffer.from('0123456789\r\n')], 10), [{ line: '0123456789', lineNumber: 1 }])
  await t.rejects(readAllBounded(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 10), { code: 'PAYLOAD_TOO_LARGE' })
  t.equal((await readAllBounded(Readable.from([Buffer.alloc(6), Buffer.alloc(4)]), 10)).byteLength, 10)
})

t.test('queue create passes the given settings and prints the result', async (t) => {
  const client = new FakeClient()
  const created = await run(client, ['queue', 'create', 'jobs', '--visibility-timeout-ms', '5000', '--max-receives', '3', '--dead-letter-queue', 'jobs-dlq'])
  t.equal(created.code, 0)
  t.same(client.calls[0], { op: 'queues.put', args: ['jobs', { visibilityTimeoutMs: 5000, maxReceives: 3, deadLetterQueue: 'jobs-dlq' }] })
  t.match(created.stdout, /^created queue 'jobs'\nvisibilityTimeoutMs {2}5000\nmaxReceives {10}3\ndeadLetterQueue {6}jobs-dlq\n/)
  t.ok(client.closed, 'the client is closed at the end')

  const again = await run(client, ['queue', 'create', 'jobs', '--dead-letter-queue', '', '--json'])
  t.same(client.calls[1], { op: 'queues.put', args: ['jobs', { deadLetterQueue: null }] })
  t.same(JSON.parse(again.stdout), { name: 'jobs', created: false, config: { ...client.queueMap.get('jobs')!.config } })

  await run(client, ['queue', 'create', 'plain'])
  t.same(client.calls[2], { op: 'queues.put', args: ['plain', undefined] }, 'no flags: no config object')
})

t.test('queue send: a string, or JSON with --json-body, with its options', async (t) => {
  const client = new FakeClient()
  await client.queues.put('jobs')
  const plain = await run(client, ['queue', 'send', 'jobs', '{"a":1}', '--priority', '7', '--delay-ms', '250', '--dedup-id', 'order-9'])
  t.equal(plain.code, 0)
  t.equal(plain.stdout, 'm1\n')
  t.same(client.calls.at(-1), { op: 'queues.send', args: ['jobs', '{"a":1}', { priority: 7, delayMs: 250, dedupId: 'order-9' }] })

  const json = await run(client, ['queue', 'send', 'jobs', '{"a":1}', '--json-body', '--json'])
  t.same(client.calls.at(-1)!.args[1], { a: 1 })
  t.same(JSON.parse(json.stdout), { id: 'm2' })

  const dash = await run(client, ['queue', 'send', 'jobs', '--', '-1'])
  t.equal(dash.code, 0)
  t.equal(client.calls.at(-1)!.args[1], '-1', "a body starting with '-' goes after --")

  const bad = await run(client, ['queue', 'send', 'jobs', '{nope', '--json-body'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /BODY is not valid JSON/)
  const priority = await run(client, ['queue', 'send', 'jobs', 'x', '--priority', '10'])
  t.equal(priority.code, 2)
  t.match(priority.stderr, /^troupe queue send: --priority must be a whole number from 0 to 9, got '10'/)
})

t.test('queue send - sends each line of stdin, in batches of at most 1000, with per-line dedup ids', async (t) => {
  const client = new FakeClient()
  await client.queues.put('jobs')
  const lines = Array.from({ length: 2500 }, (_, i) => `{"n":${i + 1}}`).join('\n') + '\n'
  const result = await run(client, ['queue', 'send', 'jobs', '-', '--json-body', '--dedup-id', 'run7', '--priority', '2'], { stdin: lines })
  t.equal(result.code, 0)
  const batches = client.calls.filter((call) => call.op === 'queues.sendBatch').map((call) => call.args[1] as { body: unknown; dedupId: string; priority: number }[])
  t.same(batches.map((batch) => batch.length), [1000, 1000, 500])
  t.same(batches[0]![0], { body: { n: 1 }, priority: 2, dedupId: 'run7-1' })
  t.same(batches[2]!.at(-1), { body: { n: 2500 }, priority: 2, dedupId: 'run7-2500' })
  const ids = result.stdout.trim().split('\n')
  t.equal(ids.length, 2500)
  t.equal(new Set(ids).size, 2500)

  const json = await run(client, ['queue', 'send', 'jobs', '-', '--json'], { stdin: 'a\n\nb' })
  t.same(JSON.parse(json.stdout), { ids: ['m2501', 'm2502'] })
  t.same(client.calls.at(-1)!.args[1], [{ body: 'a' }, { body: 'b' }], 'strings, blank lines skipped')

  const before = client.calls.length
  const badLine = await run(client, ['queue', 'send', 'jobs', '-', '--json-body'], { stdin: '{"ok":1}\n\nnot json\n' })
  t.equal(badLine.code, 1, 'bad input data fails the command; it is not a usage error')
  t.match(badLine.stderr, /^error INVALID_ARGUMENT: line 3 of stdin is not valid JSON \(--json-body\): .* \(nothing was sent; stdin from line 1 on was not\)\n$/)
  t.equal(client.calls.length, before, 'the batch holding the bad line was not sent')

  const longLine = await run(client, ['queue', 'send', 'jobs', '-'], { stdin: [Buffer.from('short\n'.repeat(1000)), Buffer.from('one more\n'), Buffer.alloc(1024 * 1024 + 1, 0x61)] })
  t.equal(longLine.code, 1)
  t.match(longLine.stderr, /^error PAYLOAD_TOO_LARGE: line 1002 of stdin is longer than 1048576 bytes.*\(the first 1000 messages were sent; stdin from line 1001 on was not\)\n$/)
})

t.test('queue send - that fails midway says what was sent', async (t) => {
  const client = new FakeClient()
  await client.queues.put('jobs')
  const lines = Array.from({ length: 1500 }, (_, i) => `m${i}`).join('\n')
  const originalSendBatch = client.queues.sendBatch
  let batchCount = 0
  client.queues.sendBatch = async (name, messages) => {
    if (++batchCount === 2) throw new FakeClientError('DEADLINE_EXCEEDED', 'sendBatch gave up after 7 attempts')
    return originalSendBatch(name, messages)
  }
  const result = await run(client, ['queue', 'send', 'jobs', '-', '--json'], { stdin: lines })
  t.equal(result.code, 1)
  t.equal(result.stderr, 'error DEADLINE_EXCEEDED: sendBatch gave up after 7 attempts (the first 1000 messages were sent; stdin from line 1001 on was not)\n')
  const document = JSON.parse(result.stdout) as { error: { code: string }; sent: number; ids: string[]; notSentFromLine: number }
  t.equal(document.error.code, 'DEADLINE_EXCEEDED')
  t.equal(document.sent, 1000)
  t.equal(document.ids.length, 1000)
  t.equal(document.notSentFromLine, 1001)
})

t.test('queue receive prints id, receipt, receive count and body; --json keeps bytes as base64', async (t) => {
  const client = new FakeClient()
  await client.queues.put('jobs')
  await client.queues.send('jobs', 'hello world')
  await client.queues.send('jobs', { n: 1 })
  await client.queues.send('jobs', Buffer.from([1, 2, 3]))
  const human = await run(client, ['queue', 'receive', 'jobs', '--max', '2', '--wait-ms', '1500', '--visibility-timeout-ms', '60000', '--timeout-ms', '2000'])
  t.equal(human.code, 0)
  t.same(client.calls.at(-1), { op: 'queues.receive', args: ['jobs', { max: 2, waitMs: 1500, visibilityTimeoutMs: 60000 }] })
  t.equal(human.connected[0]!.deadlineMs, 2000, '--timeout-ms is the deadline (the SDK adds waitMs to it)')
  t.equal(human.stdout, 'ID  RECEIPT  RECEIVES  BODY\nm1  r-m1     1         hello world\nm2  r-m2     1         {"n":1}\n')

  const json = await run(client, ['queue', 'receive', 'jobs', '--json'])
  const { messages } = JSON.parse(json.stdout) as { messages: { id: string; body: unknown; receiveCount: number }[] }
  t.same(messages.map((m) => [m.id, m.body, m.receiveCount]), [['m3', { $base64: 'AQID' }, 1]])

  const empty = await run(client, ['queue', 'receive', 'jobs'])
  t.equal(empty.stdout, 'no messages\n')
  t.equal((await run(client, ['queue', 'receive', 'jobs', '--max', '101'])).code, 2)
  t.equal((await run(client, ['queue', 'receive', 'jobs', '--wait-ms', '20001'])).code, 2)
})

t.test('queue ack acks every receipt; missing receipts fail with exit 1 and are listed', async (t) => {
  const client = new FakeClient()
  await client.queues.put('jobs')
  for (const body of ['a', 'b', 'c']) await client.queues.send('jobs', body)
  await client.queues.receive('jobs', { max: 3 })
  const one = await run(client, ['queue', 'ack', 'jobs', 'r-m1'])
  t.equal(one.code, 0)
  t.equal(one.stdout, 'acked 1 message\n')
  t.same(client.calls.at(-1)!.args, ['jobs', 'r-m1'])

  const some = await run(client, ['queue', 'ack', 'jobs', 'r-m2', 'r-gone', 'r-m3', '--json'])
  t.equal(some.code, 1)
  t.same(client.calls.at(-1)!.args, ['jobs', ['r-m2', 'r-gone', 'r-m3']])
  t.equal(some.stderr, 'error RECEIPT_NOT_FOUND: 1 receipt(s) not found (missing: r-gone)\n')
  t.same(JSON.parse(some.stdout), { error: { code: 'RECEIPT_NOT_FOUND', message: '1 receipt(s) not found', missing: ['r-gone'] } })

  const none = await run(client, ['queue', 'ack', 'jobs'])
  t.equal(none.code, 2)
  t.match(none.stderr, /expected 2 to 1001 arguments \(troupe queue ack NAME RECEIPT\.\.\.\), got 1/)
})

t.test('queue stats, list, purge, delete', async (t) => {
  const client = new FakeClient()
  await client.queues.put('b-queue')
  await client.queues.put('a-queue')
  await client.queues.send('a-queue', 'x')
  const stats = await run(client, ['queue', 'stats', 'a-queue'])
  t.equal(
    stats.stdout,
    [
      'name                 a-queue',
      'visible              1',
      'inFlight             0',
      'delayed              0',
      'total                1',
      'visibilityTimeoutMs  30000',
      'maxReceives          0',
      'deadLetterQueue      -',
      'maxMessages          0',
      'delayMs              0',
      'retentionMs          345600000',
      '',
    ].join('\n'),
  )
  const list = await run(client, ['queue', 'list'])
  t.equal(list.stdout, 'NAME     VISIBLE  IN-FLIGHT  DELAYED  TOTAL\na-queue  1        0          0        1\nb-queue  0        0          0        0\n')
  t.same((JSON.parse((await run(client, ['queue', 'list', '--json'])).stdout) as { queues: { name: string }[] }).queues.map((q) => q.name), ['a-queue', 'b-queue'])
  t.equal((await run(client, ['queue', 'purge', 'a-queue'])).stdout, "purged queue 'a-queue'\n")
  t.equal(client.queueMap.get('a-queue')!.messages.length, 0)
  t.equal((await run(client, ['queue', 'delete', 'b-queue'])).stdout, "deleted queue 'b-queue'\n")
  const missing = await run(client, ['queue', 'stats', 'b-queue'])
  t.equal(missing.code, 1)
  t.equal(missing.stderr, "error QUEUE_NOT_FOUND: queue 'b-queue' does not exist\n")
  t.equal(missing.stdout, '', 'nothing on stdout without --json')
})

t.test('kv get prints the stored bytes; a missing key is KEY_NOT_FOUND with exit 1', async (t) => {
  const client = new FakeClient()
  client.keys.set('greeting', { value: Buffer.from('hello'), version: 12 })
  client.keys.set('blob', { value: Buffer.from([0xff, 0x00, 0x10]), version: 13, expiresAt: 1_800_000_000_000 })
  const raw = await run(client, ['kv', 'get', 'greeting'])
  t.equal(raw.code, 0)
  t.equal(raw.stdout, 'hello', 'exact bytes when stdout is not a terminal')
  t.same(client.calls.at(-1)!.args, ['greeting', { consistency: 'linearizable' }])
  t.equal((await run(client, ['kv', 'get', 'greeting'], { tty: true })).stdout, 'hello\n')
  t.same((await run(client, ['kv', 'get', 'blob'])).stdoutBytes, Buffer.from([0xff, 0x00, 0x10]))
  await run(client, ['kv', 'get', 'greeting', '--stale'])
  t.same(client.calls.at(-1)!.args, ['greeting', { consistency: 'stale' }])

  t.same(JSON.parse((await run(client, ['kv', 'get', 'greeting', '--json'])).stdout), { key: 'greeting', value: 'hello', encoding: 'utf8', version: 12 })
  t.same(JSON.parse((await run(client, ['kv', 'get', 'blob', '--json'])).stdout), { key: 'blob', value: '/wAQ', encoding: 'base64', version: 13, expiresAt: 1_800_000_000_000 })

  const missing = await run(client, ['kv', 'get', 'nope', '--json'])
  t.equal(missing.code, 1)
  t.equal(missing.stderr, "error KEY_NOT_FOUND: key 'nope' does not exist\n")
  t.same(JSON.parse(missing.stdout), { error: { code: 'KEY_NOT_FOUND', message: "key 'nope' does not exist" } })
})

t.test('kv put from an argument or stdin, with --ttl-ms and --if-version; kv del', async (t) => {
  const client = new FakeClient()
  const put = await run(client, ['kv', 'put', 'k', 'v1', '--ttl-ms', '60000'])
  t.equal(put.code, 0)
  t.equal(put.stdout, 'version 10\n')
  t.same(client.calls.at(-1)!.args, ['k', 'v1', { ttlMs: 60000 }])

  const fromStdin = await run(client, ['kv', 'put', 'k', '-', '--if-version', '10', '--json'], { stdin: [Buffer.from([0, 1]), Buffer.from([2])] })
  t.same(JSON.parse(fromStdin.stdout), { key: 'k', version: 11 })
  t.same(client.calls.at(-1)!.args, ['k', Buffer.from([0, 1, 2]), { ifVersion: 10 }])

  const conflict = await run(client, ['kv', 'put', 'k', 'v3', '--if-version', '0'])
  t.equal(conflict.code, 1)
  t.match(conflict.stderr, /^error CONFLICT: ifVersion 0 does not match/)

  const tooBig = await run(client, ['kv', 'put', 'k', '-'], { stdin: [Buffer.alloc(1024 * 1024), Buffer.alloc(1)] })
  t.equal(tooBig.code, 1)
  t.match(tooBig.stderr, /^error PAYLOAD_TOO_LARGE: stdin holds more than 1048576 bytes/)
  t.equal(client.calls.filter((call) => call.op === 'kv.put').length, 3, 'the oversized value was never sent')

  const del = await run(client, ['kv', 'del', 'k', '--if-version', '11'])
  t.equal(del.stdout, "deleted key 'k'\n")
  t.same(client.calls.at(-1)!.args, ['k', { ifVersion: 11 }])
  const again = await run(client, ['kv', 'del', 'k'])
  t.equal(again.code, 1)
  t.equal(again.stderr, "error KEY_NOT_FOUND: key 'k' does not exist\n")
})

t.test('node remove asks the SDK to remove the node and says so; its refusal exits 1', async (t) => {
  const client = new FakeClient()
  const removed = await run(client, ['node', 'remove', '3'])
  t.equal(removed.code, 0)
  t.equal(removed.stdout, 'removed node 3 from the cluster\n')
  t.same(client.calls.at(-1), { op: 'removeNode', args: [3] })
  t.same(JSON.parse((await run(client, ['node', 'remove', '3', '--json'])).stdout), { removed: 3 })
  client.failNext('removeNode', new FakeClientError('INVALID_ARGUMENT', 'node 9 is not a member of the cluster'))
  const refused = await run(client, ['node', 'remove', '9'])
  t.equal(refused.code, 1)
  t.equal(refused.stderr, 'error INVALID_ARGUMENT: node 9 is not a member of the cluster\n')
})

t.test('usage errors exit 2 before connecting', async (t) => {
  const client = new FakeClient()
  const cases: [string[], RegExp][] = [
    [['queue'], /^troupe queue: which command\?/],
    [['queue', 'shuffle'], /^troupe queue: unknown command 'shuffle'/],
    [['queue', 'send', 'jobs'], /expected 2 arguments/],
    [['queue', 'send', 'jobs', 'x', '--colour'], /^troupe queue send: Unknown option '--colour'/],
    [['kv', 'get', 'k', '--timeout-ms', '0'], /--timeout-ms must be a whole number at least 1/],
    [['kv', 'get', 'k', '--nodes', 'nowhere'], /--nodes: 'nowhere' is not host:port/],
    [['status', 'extra'], /expected 0 arguments/],
    [['node', 'remove'], /expected 1 argument/],
    [['node', 'remove', '0'], /ID must be a node id/],
    [['node', 'remove', 'three'], /ID must be a node id/],
  ]
  for (const [argv, message] of cases) {
    const result = await run(client, argv)
    t.equal(result.code, 2, argv.join(' '))
    t.match(result.stderr, message)
    t.same(result.connected, [], 'no connection was made')
  }
})

t.test('--help explains discovery and retries without connecting', async (t) => {
  const client = new FakeClient()
  const help = await run(client, ['queue', 'send', '--help'])
  t.equal(help.code, 0)
  t.same(help.connected, [])
  t.match(help.stdout, /^usage: troupe queue send NAME BODY\|- \[options\]/)
  t.match(help.stdout, /--dedup-id ID/)
  t.match(help.stdout, /NOT_LEADER or MOVED/)
  t.match(help.stdout, /exponential backoff/)
  t.match(help.stdout, /DEADLINE_EXCEEDED/)
  t.match((await run(client, ['kv', 'get', '-h'])).stdout, /KEY_NOT_FOUND and exit code 1/)
  const group = await run(client, ['kv', '--help'])
  t.equal(group.code, 0)
  t.match(group.stdout, / {2}get KEY {10}print a key's value\n/)
  // Every flag of every command has a line of help.
  for (const command of allClientCommands()) {
    const text = (await run(client, [...command.path, '--help'])).stdout
    for (const flag of Object.keys(command.options)) t.match(text, `--${flag}`, `${command.path.join(' ')} --help names --${flag}`)
  }
})

t.test('connection settings reach the SDK; a failed connect exits 1 with its code', async (t) => {
  const client = new FakeClient()
  client.keys.set('k', { value: Buffer.from('v'), version: 1 })
  const viaEnv = await run(client, ['kv', 'get', 'k'], { env: { TROUPE_NODES: '10.0.0.1:7281,10.0.0.2:7281', TROUPE_TOKEN: 'sekrit' } })
  t.same(viaEnv.connected, [{ nodes: ['10.0.0.1:7281', '10.0.0.2:7281'], token: 'sekrit', clientName: 'troupe-cli', deadlineMs: 10_000, connectTimeoutMs: 3_000 }])
  const viaFlag = await run(client, ['kv', 'get', 'k', '--nodes', '127.0.0.1:9', '--timeout-ms', '500'], { env: { TROUPE_NODES: '10.0.0.1:7281' } })
  t.same(viaFlag.connected, [{ nodes: ['127.0.0.1:9'], clientName: 'troupe-cli', deadlineMs: 500, connectTimeoutMs: 500 }])

  const refused = await run(client, ['kv', 'get', 'k'], { connectError: new FakeClientError('CONNECTION_FAILED', 'no seed answered: 127.0.0.1:7281 (ECONNREFUSED)') })
  t.equal(refused.code, 1)
  t.equal(refused.stderr, 'error CONNECTION_FAILED: no seed answered: 127.0.0.1:7281 (ECONNREFUSED)\n')

  client.failNext('kv.get', new FakeClientError('DEADLINE_EXCEEDED', 'kv.get gave up after 5 attempts; last error UNAVAILABLE'))
  const late = await run(client, ['kv', 'get', 'k'])
  t.equal(late.code, 1)
  t.equal(late.stderr, 'error DEADLINE_EXCEEDED: kv.get gave up after 5 attempts; last error UNAVAILABLE\n')
  t.ok(client.closed)
})

const threeNodeMap = {
  node: 2,
  shardCount: 2,
  nodes: [
    { id: 2, peer: '127.0.0.1:7292', http: '127.0.0.1:7290', tcp: '127.0.0.1:7291', state: 'self' },
    { id: 1, peer: '127.0.0.1:7282', http: '127.0.0.1:7280', tcp: '127.0.0.1:7281', state: 'up' },
    { id: 3, peer: '127.0.0.1:7302', state: 'down' },
  ],
  shards: [
    { id: 0, leader: 1, term: 4, commitIndex: 118, members: [1, 2, 3] },
    { id: 1, leader: 0, term: 7, commitIndex: 30, members: [1, 2, 3] },
  ],
}

t.test('lag is the spread of the members’ commit indexes, unknown below two answers (one for a one-member shard)', async (t) => {
  const views = new Map<number, NodeView>([
    [1, new Map([[0, 120], [1, 31]])],
    [2, new Map([[0, 118]])],
  ])
  const rows = shardRows(threeNodeMap, views)
  t.same(rows[0], { ...threeNodeMap.shards[0], commitIndex: 120, commitIndexByNode: { 1: 120, 2: 118 }, lag: 2 })
  t.same(rows[1], { ...threeNodeMap.shards[1], commitIndex: 30, commitIndexByNode: { 1: 31 }, lag: null })
  const single = { node: 1, shardCount: 1, nodes: [{ id: 1, state: 'self' }], shards: [{ id: 0, leader: 1, term: 2, commitIndex: 9, members: [1] }] }
  t.same(shardRows(single, new Map([[1, new Map([[0, 9]])]]))[0]!.lag, 0, 'a one-member shard trails nothing')
  t.same(shardRows(single, new Map())[0]!.lag, null)
})

t.test('status asks each node with an HTTP address and prints nodes and shards', async (t) => {
  const client = new FakeClient()
  client.clusterMap = threeNodeMap
  const asked: string[] = []
  const command = statusCommand(async (http, token) => {
    asked.push(`${http} ${token ?? '-'}`)
    if (http === '127.0.0.1:7290') throw new Error('refused')
    return new Map([[0, 121], [1, 30]])
  })
  const result = await run(client, ['status'], { commands: [command], env: { TROUPE_TOKEN: 'tk' } })
  t.equal(result.code, 0)
  t.same(asked.sort(), ['127.0.0.1:7280 tk', '127.0.0.1:7290 tk'])
  t.equal(
    result.stdout,
    [
      'answered by  node 2',
      'shards       2',
      '',
      'ID  TCP             HTTP            STATE',
      '2   127.0.0.1:7291  127.0.0.1:7290  self',
      '1   127.0.0.1:7281  127.0.0.1:7280  up',
      '3   -               -               down',
      '',
      'SHARD  LEADER  TERM  COMMIT  LAG  MEMBERS',
      '0      1       4     121     3    1,2,3',
      '1      none    7     30      0    1,2,3',
      '',
    ].join('\n'),
    "node 2 did not answer over HTTP: the map stands for its view; node 3 has no HTTP address",
  )
  const json = JSON.parse((await run(client, ['status', '--json'], { commands: [command] })).stdout) as { shards: { lag: number; commitIndexByNode: Record<string, number> }[] }
  t.same(json.shards.map((s) => s.lag), [3, 0])
  t.same(json.shards[0]!.commitIndexByNode, { 1: 121, 2: 118 })
})
