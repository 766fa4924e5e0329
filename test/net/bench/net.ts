// Benchmark of the peer transport, kept with the net tests until it moves to
// bench/ (a one-line `bench/net.ts`: `export { main } from '../test/net/bench/net.js'`).
// Standalone: `node dist/test/net/bench/net.js [--json] [--count N] [--rounds N] [--bytes N]`.
//
// Two PeerTransports (nodes 1 and 2, cluster secret set) on 127.0.0.1 in this
// one process, so each figure pays for both ends on one thread:
// (a) one-way throughput: node 1 sends `count` Raft-append-like messages of
//     ~`bytes` payload, as fast as the outbound bound lets it (a dropped send
//     is retried next turn), until node 2 has received them all;
// (b) round-trip latency: `rounds` sequential ping-pongs between the two nodes;
// (c) handshake rate: dial + authenticated handshake + close, sequentially.
// Baseline: the same frames over a raw socket pair with one `socket.write`
// per message (no batching), honouring the socket's backpressure.
import { createServer, connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { dialPeer } from '../../../src/net/dial-peer.js'
import { FrameDecoder, NO_FRAME } from '../../../src/net/frame-decoder.js'
import { FrameEncoder } from '../../../src/net/frame-encoder.js'
import { PeerServer } from '../../../src/net/peer-server.js'
import { PeerTransport } from '../../../src/net/peer-transport.js'
import { createLatencyHistogram, formatTable, summarize, type BenchArgs, type BenchMain, type BenchResult, type Measurement, numberOption } from '../../../bench/lib/report.js'

const DEFAULTS = { count: 200_000, rounds: 5_000, bytes: 256, handshakes: 200, burst: 4_096 }
const SECRET = 'bench-secret'

function intOption(args: BenchArgs, name: string, fallback: number): number {
  return numberOption(args.options, name, fallback, true)
}

function makeMessage(seq: number, payload: Uint8Array): unknown {
  return { type: 'append', shard: seq % 8, term: 3, index: seq, commit: seq - 1, entries: [{ term: 3, index: seq, data: payload }] }
}

/** CPU time (user + system) of this process since `start`: the figure that survives a busy machine. */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1e6
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

async function startPair(onMessages2: (from: number, messages: unknown[]) => void, onMessages1: (from: number, messages: unknown[]) => void = () => {}) {
  const b = await PeerTransport.start({ localId: 2, listen: '127.0.0.1:0', secret: SECRET, onMessages: onMessages2 })
  const a = await PeerTransport.start({ localId: 1, listen: '127.0.0.1:0', secret: SECRET, onMessages: onMessages1 })
  a.addPeer(2, `127.0.0.1:${b.address.port}`)
  b.addPeer(1, `127.0.0.1:${a.address.port}`)
  const deadline = Date.now() + 10_000
  while (!(a.link(2)!.connected && b.link(1)!.connected)) {
    if (Date.now() > deadline) throw new Error('the transports did not connect')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { a, b, close: async () => Promise.all([a.close(), b.close()]) }
}

async function transportThroughput(count: number, payload: Uint8Array, burst: number): Promise<{ m: Measurement; drops: number; perCpuSecond: number }> {
  let received = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => (done = resolve))
  const pair = await startPair((_from, messages) => {
    received += messages.length
    if (received === count) done()
  })
  let sent = 0
  let drops = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  while (sent < count) {
    for (let i = 0; i < burst && sent < count; i++) {
      if (pair.a.send(2, makeMessage(sent, payload))) sent++
      else {
        drops++
        break
      }
    }
    await turn()
  }
  await finished
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = cpuSecondsSince(cpu)
  await pair.close()
  return { m: { name: 'peer transport (batched)', opsPerSec: count / seconds }, drops, perCpuSecond: count / cpuSeconds }
}

async function rawUnbatchedThroughput(count: number, payload: Uint8Array): Promise<{ m: Measurement; perCpuSecond: number }> {
  const encoder = new FrameEncoder({ maxFrameBytes: 16 * 1024 * 1024 })
  let received = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => (done = resolve))
  const server = createServer((socket) => {
    const decoder = new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 })
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk)
      while (decoder.next() !== NO_FRAME) received++
      if (received === count) done()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const socket: Socket = await new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s))
  })
  const cpu = process.cpuUsage()
  const started = performance.now()
  for (let seq = 0; seq < count; seq++) {
    if (!socket.write(encoder.encode(makeMessage(seq, payload)))) await new Promise((resolve) => socket.once('drain', resolve))
  }
  await finished
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = cpuSecondsSince(cpu)
  socket.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return { m: { name: 'raw socket, one write per message', opsPerSec: count / seconds }, perCpuSecond: count / cpuSeconds }
}

async function pingPong(rounds: number, payload: Uint8Array): Promise<Measurement> {
  let answer: () => void = () => {}
  const pair = await startPair(
    (from, messages) => {
      for (const message of messages) pair.b.send(from, message)
    },
    () => answer(),
  )
  const histogram = createLatencyHistogram()
  const warmup = Math.min(500, rounds)
  let started = 0
  for (let i = 0; i < rounds + warmup; i++) {
    const back = new Promise<void>((resolve) => (answer = resolve))
    const t0 = performance.now()
    if (i === warmup) started = t0
    pair.a.send(2, makeMessage(i, payload))
    await back
    if (i >= warmup) histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))
  }
  const seconds = (performance.now() - started) / 1000
  await pair.close()
  return { name: 'round trip (ping-pong)', opsPerSec: rounds / seconds, ...summarize(histogram) }
}

async function handshakeRate(count: number): Promise<Measurement> {
  const server = await PeerServer.listen({ localId: 2, listen: '127.0.0.1:0', secret: SECRET, onConnection: (c) => c.start({ onMessages: () => {} }) })
  const address = `127.0.0.1:${server.address.port}`
  const histogram = createLatencyHistogram()
  const started = performance.now()
  for (let i = 0; i < count; i++) {
    const t0 = performance.now()
    const connection = await dialPeer(address, { localId: 1, expectedRemoteId: 2, secret: SECRET })
    histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))
    connection.close()
  }
  const seconds = (performance.now() - started) / 1000
  await server.close()
  return { name: 'connect + HMAC handshake', opsPerSec: count / seconds, ...summarize(histogram) }
}

export const main: BenchMain = async (args) => {
  const count = intOption(args, 'count', DEFAULTS.count)
  const rounds = intOption(args, 'rounds', DEFAULTS.rounds)
  const bytes = intOption(args, 'bytes', DEFAULTS.bytes)
  const payload = new Uint8Array(bytes).fill(7)
  const { m: baseline, perCpuSecond: baselinePerCpuSecond } = await rawUnbatchedThroughput(count, payload)
  const { m: batched, drops, perCpuSecond } = await transportThroughput(count, payload, DEFAULTS.burst)
  const latency = await pingPong(rounds, payload)
  const handshakes = await handshakeRate(DEFAULTS.handshakes)
  if (!args.json) {
    process.stdout.write(`net: ${count} messages of ~${bytes + 40} bytes one way, ${rounds} round trips, ${DEFAULTS.handshakes} handshakes; both ends in one process\n`)
    process.stdout.write(formatTable([batched, baseline, latency, handshakes]) + '\n')
    process.stdout.write(`messages per CPU-second: batched ${Math.round(perCpuSecond)}, unbatched ${Math.round(baselinePerCpuSecond)}\n`)
    process.stdout.write(`sends refused by the outbound bound (retried): ${drops}\n`)
  }
  const result: BenchResult = {
    bench: 'net',
    opsPerSec: Math.round(batched.opsPerSec),
    baseline: { ...baseline, opsPerSec: Math.round(baseline.opsPerSec) },
    roundTrip: { ...latency, opsPerSec: Math.round(latency.opsPerSec) },
    handshake: { ...handshakes, opsPerSec: Math.round(handshakes.opsPerSec) },
    messagesPerCpuSecond: Math.round(perCpuSecond),
    baselineMessagesPerCpuSecond: Math.round(baselinePerCpuSecond),
    messageBytes: bytes,
    boundDrops: drops,
  }
  if (latency.p50Ms !== undefined) result.p50Ms = latency.p50Ms
  if (latency.p99Ms !== undefined) result.p99Ms = latency.p99Ms
  return result
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2)
  const options = new Map<string, string | true>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--json' || !arg.startsWith('--')) continue
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith('--')) {
      options.set(arg.slice(2), next)
      i++
    } else options.set(arg.slice(2), true)
  }
  const json = argv.includes('--json')
  const result = await main({ json, options })
  if (json) process.stdout.write(JSON.stringify(result) + '\n')
}
