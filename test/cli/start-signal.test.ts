// SIGTERM or SIGINT while `troupe start` is still starting: the contract's
// "exit code 0 within 10 s" holds there too. A node whose peers are not
// there waits up to 30 s for its shards' leaders, and a join waits up to 30 s
// for an answer; a signal cancels either wait, and the node stops at once.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePorts } from './helpers.js'

const bin = fileURLToPath(new URL('../../src/cli/troupe.js', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'troupe-start-signal-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))

interface Stopped {
  code: number | null
  signal: NodeJS.Signals | null
  /** From the signal to the exit. */
  ms: number
  output: string
}

/**
 * Starts a node and, once its log shows the start is under way (`waitFor`),
 * sends `signal`. The start must not finish: these nodes cannot be ready.
 */
async function signalWhileStarting(args: string[], waitFor: string, signal: NodeJS.Signals): Promise<Stopped> {
  const child = spawn(process.execPath, [bin, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let output = ''
  let signalledAt = 0
  const exited = new Promise<Stopped>((resolve) =>
    child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal, ms: Date.now() - signalledAt, output })),
  )
  const onOutput = (chunk: string): void => {
    output += chunk
    if (signalledAt === 0 && output.includes(waitFor)) {
      signalledAt = Date.now()
      child.kill(signal)
    }
  }
  child.stdout!.setEncoding('utf8').on('data', onOutput)
  child.stderr!.setEncoding('utf8').on('data', onOutput)
  const stopped = await exited
  if (signalledAt === 0) t.fail(`the node exited before its log showed '${waitFor}': ${output.slice(-400)}`)
  else t.pass(`the signal went once the log showed '${waitFor}'`)
  t.notOk(output.includes(' ready http='), 'the node never said it was ready')
  return stopped
}

t.test('a node whose peers are not there stops on SIGTERM instead of waiting for leaders', async (t) => {
  const ports = await freePorts(5)
  const peer = `127.0.0.1:${ports[2]}`
  // Members 2 and 3 are never started: no shard can elect a leader.
  const cluster = `1=${peer},2=127.0.0.1:${ports[3]},3=127.0.0.1:${ports[4]}`
  const args = ['--id', '1', '--data', join(dir, 'alone'), '--http', `127.0.0.1:${ports[0]}`, '--listen', `127.0.0.1:${ports[1]}`]
  args.push('--peer', peer, '--cluster', cluster, '--shards', '2', '--threads', '1', '--sync', 'none')
  const stopped = await signalWhileStarting(args, '"msg":"peer link"', 'SIGTERM')
  t.equal(stopped.code, 0, `exit code 0 (signal ${stopped.signal}): ${stopped.output.slice(-400)}`)
  t.ok(stopped.ms < 10_000, `exited ${stopped.ms} ms after the signal, within the contract's 10 s (the wait for leaders lasts 30 s)`)
  t.match(stopped.output, /start-up cancelled: node stopped/)
})

t.test('a join that gets no answer stops on SIGINT and leaves the data directory without node.json', async (t) => {
  // A "member" that accepts the connection and never answers the handshake.
  const silent = createServer()
  const sockets: Socket[] = []
  silent.on('connection', (socket) => sockets.push(socket))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    silent.close()
  })
  const silentAddress = `127.0.0.1:${(silent.address() as { port: number }).port}`
  const ports = await freePorts(3)
  const data = join(dir, 'joiner')
  const args = ['--id', '2', '--data', data, '--http', `127.0.0.1:${ports[0]}`, '--listen', `127.0.0.1:${ports[1]}`]
  args.push('--peer', `127.0.0.1:${ports[2]}`, '--join', silentAddress, '--shards', '2', '--threads', '1', '--sync', 'none')
  const stopped = await signalWhileStarting(args, '"msg":"joining a running cluster"', 'SIGINT')
  t.equal(stopped.code, 0, `exit code 0 (signal ${stopped.signal}): ${stopped.output.slice(-400)}`)
  t.ok(stopped.ms < 10_000, `exited ${stopped.ms} ms after the signal (a join waits 30 s for its answer)`)
  t.ok(sockets.length > 0, 'the node had dialed the member')
  t.notOk((await readdir(data)).includes('node.json'), 'a cancelled join records no membership: the node can try again')
})
