// `npm run bench -- ring [--json] [--count N] [--rounds N] [--batch N] [--capacity BYTES]`
//
// The same stream of ~100-byte envelopes from the main thread to one worker:
// (a) through an SpscRing with the msgpack codec (encode, tryWrite, publish every
//     `batch` frames; the worker drains and decodes), and
// (b) through postMessage of the same objects (structured clone), with the
//     worker acknowledging every `ackEvery` messages so at most `windowAcks`
//     chunks are in flight (postMessage has no backpressure of its own; the
//     ring's is its capacity).
// One-way throughput over `count` messages, then round-trip latency over
// `rounds` ping-pongs (main sends one message, the worker answers it, main
// waits for the answer before sending the next). The ring's latency is measured
// twice: sleeping at once when idle (the default, reported as the result), and
// polling for up to `spin` µs before sleeping (reported under `spin`).
import { Worker } from 'node:worker_threads'
import type { Histogram } from 'hdr-histogram-js'
import { createCodec, type Codec } from '../src/runtime/codec.js'
import { SpscRing } from '../src/runtime/ring.js'
import { ENVELOPE_TABLE, makeEnvelope } from './fixtures/ring-envelope.js'
import type { WorkerCommand, WorkerReply } from './fixtures/ring-worker.js'
import {
  createLatencyHistogram,
  formatTable,
  summarize,
  type BenchArgs,
  type BenchMain,
  type Measurement,
} from './lib/report.js'

const DEFAULTS = {
  count: 500_000,
  rounds: 20_000,
  warmupRounds: 2_000,
  batch: 64,
  capacityBytes: 256 * 1024,
  spinMicros: 200,
  ackEvery: 4_096,
  windowAcks: 8,
}

function intOption(args: BenchArgs, name: string, fallback: number): number {
  const raw = args.options.get(name)
  if (raw === undefined || raw === true) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`)
  return value
}

class WorkerChannel {
  private waiting: ((reply: WorkerReply) => void) | undefined
  private readonly backlog: WorkerReply[] = []

  constructor(readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      const resolve = this.waiting
      if (resolve !== undefined) {
        this.waiting = undefined
        resolve(reply)
      } else this.backlog.push(reply)
    })
  }

  send(command: WorkerCommand | ReturnType<typeof makeEnvelope>): void {
    this.worker.postMessage(command)
  }

  next(): Promise<WorkerReply> {
    const queued = this.backlog.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    return new Promise((resolve) => {
      this.waiting = resolve
    })
  }

  async expect<K extends WorkerReply['kind']>(kind: K): Promise<Extract<WorkerReply, { kind: K }>> {
    const reply = await this.next()
    if (reply.kind !== kind) throw new Error(`worker answered ${reply.kind}, expected ${kind}`)
    return reply as Extract<WorkerReply, { kind: K }>
  }
}

function expectedSeqSum(count: number): number {
  return (count * (count - 1)) / 2
}

async function ringThroughput(channel: WorkerChannel, codec: Codec, count: number, batch: number, capacityBytes: number): Promise<number> {
  const ring = SpscRing.create(capacityBytes)
  channel.send({ kind: 'ring-throughput', inbound: ring.buffer, count })
  const startMs = performance.now()
  let staged = 0
  for (let seq = 0; seq < count; seq++) {
    const envelope = makeEnvelope(seq)
    let range = codec.encodeTransient(envelope)
    if (!ring.tryWrite(range.bytes, range.start, range.end)) {
      await ring.waitForSpace(range.end - range.start)
      // The transient range is only valid until the next encode: redo it after the await.
      range = codec.encodeTransient(envelope)
      if (!ring.tryWrite(range.bytes, range.start, range.end)) throw new Error('no space after waitForSpace')
    }
    if (++staged === batch) {
      ring.publish()
      staged = 0
    }
  }
  ring.publish()
  const done = await channel.expect('done')
  const elapsedMs = performance.now() - startMs
  if (done.received !== count || done.seqSum !== expectedSeqSum(count)) {
    throw new Error(`ring delivered ${done.received} messages with seq sum ${done.seqSum}`)
  }
  return (count / elapsedMs) * 1000
}

async function postThroughput(channel: WorkerChannel, count: number, ackEvery: number, windowAcks: number): Promise<number> {
  channel.send({ kind: 'post-throughput', count, ackEvery })
  const startMs = performance.now()
  let acked = 0
  for (let seq = 0; seq < count; seq++) {
    channel.send(makeEnvelope(seq))
    // Keep at most windowAcks chunks in flight.
    while (seq + 1 - acked >= ackEvery * windowAcks) {
      acked = (await channel.expect('ack')).received
    }
  }
  let reply = await channel.next()
  while (reply.kind === 'ack') reply = await channel.next()
  const elapsedMs = performance.now() - startMs
  if (reply.kind !== 'done' || reply.received !== count || reply.seqSum !== expectedSeqSum(count)) {
    throw new Error(`postMessage run ended with ${JSON.stringify(reply)}`)
  }
  return (count / elapsedMs) * 1000
}

async function ringPing(
  channel: WorkerChannel,
  codec: Codec,
  rounds: number,
  spinMicros: number,
  histogram: Histogram | undefined,
): Promise<void> {
  const requests = SpscRing.create(4096)
  const replies = SpscRing.create(4096)
  channel.send({ kind: 'ring-ping', inbound: requests.buffer, outbound: replies.buffer, rounds, spinMicros })
  let answered = false
  const onReply = (bytes: Uint8Array, start: number, end: number): void => {
    codec.decode(bytes, start, end)
    answered = true
  }
  const waitOptions = { spinMicros }
  for (let seq = 0; seq < rounds; seq++) {
    const startMs = performance.now()
    const range = codec.encodeTransient(makeEnvelope(seq))
    requests.tryWrite(range.bytes, range.start, range.end)
    requests.publish()
    answered = false
    while (!answered) {
      if (replies.drainRanges(onReply) === 0) await replies.waitForFrames(waitOptions)
    }
    histogram?.recordValue(Math.max(1, Math.round((performance.now() - startMs) * 1000)))
  }
  await channel.expect('done')
}

async function postPing(channel: WorkerChannel, rounds: number, histogram: Histogram | undefined): Promise<void> {
  channel.send({ kind: 'post-ping', rounds })
  for (let seq = 0; seq < rounds; seq++) {
    const startMs = performance.now()
    channel.send(makeEnvelope(seq))
    await channel.expect('pong')
    histogram?.recordValue(Math.max(1, Math.round((performance.now() - startMs) * 1000)))
  }
}

export const main: BenchMain = async (args) => {
  const count = intOption(args, 'count', DEFAULTS.count)
  const rounds = intOption(args, 'rounds', DEFAULTS.rounds)
  const batch = intOption(args, 'batch', DEFAULTS.batch)
  const capacityBytes = intOption(args, 'capacity', DEFAULTS.capacityBytes)
  const spinMicros = intOption(args, 'spin', DEFAULTS.spinMicros)
  const codec = createCodec({ structures: ENVELOPE_TABLE })
  const messageBytes = codec.encode(makeEnvelope(123_456)).length

  const worker = new Worker(new URL('./fixtures/ring-worker.js', import.meta.url))
  const channel = new WorkerChannel(worker)
  try {
    // Warm both paths (JIT, worker start-up) before measuring either.
    const warmCount = Math.min(count, 50_000)
    await ringThroughput(channel, codec, warmCount, batch, capacityBytes)
    await postThroughput(channel, warmCount, DEFAULTS.ackEvery, DEFAULTS.windowAcks)
    await ringPing(channel, codec, DEFAULTS.warmupRounds, 0, undefined)
    await ringPing(channel, codec, DEFAULTS.warmupRounds, spinMicros, undefined)
    await postPing(channel, DEFAULTS.warmupRounds, undefined)

    const ringOpsPerSec = await ringThroughput(channel, codec, count, batch, capacityBytes)
    const postOpsPerSec = await postThroughput(channel, count, DEFAULTS.ackEvery, DEFAULTS.windowAcks)
    const ringLatency = createLatencyHistogram()
    await ringPing(channel, codec, rounds, 0, ringLatency)
    const spinLatency = createLatencyHistogram()
    await ringPing(channel, codec, rounds, spinMicros, spinLatency)
    const postLatency = createLatencyHistogram()
    await postPing(channel, rounds, postLatency)

    const ring: Measurement = { name: 'ring', opsPerSec: Math.round(ringOpsPerSec), ...summarize(ringLatency) }
    const baseline: Measurement = { name: 'postMessage', opsPerSec: Math.round(postOpsPerSec), ...summarize(postLatency) }
    // Same throughput path; only the waits of the ping-pong spin before sleeping.
    const spinning: Measurement = { name: `ring, spin ${spinMicros} µs`, opsPerSec: ring.opsPerSec, ...summarize(spinLatency) }
    const throughputRatio = Math.round((ringOpsPerSec / postOpsPerSec) * 100) / 100
    const latencyRatioP50 = Math.round((ring.p50Ms! / baseline.p50Ms!) * 100) / 100
    if (!args.json) {
      process.stdout.write(
        `ring vs postMessage: ${count} one-way messages of ${messageBytes} encoded bytes, batch ${batch}, ` +
          `ring ${capacityBytes} B; ${rounds} round trips (latency columns)\n`,
      )
      process.stdout.write(formatTable([ring, spinning, baseline]) + '\n')
      process.stdout.write(
        `throughput ratio ${throughputRatio}x, p50 round-trip ratio ${latencyRatioP50} ` +
          `(with spin ${Math.round((spinning.p50Ms! / baseline.p50Ms!) * 100) / 100})\n`,
      )
    }
    return {
      bench: 'ring',
      opsPerSec: ring.opsPerSec,
      p50Ms: ring.p50Ms,
      p99Ms: ring.p99Ms,
      p999Ms: ring.p999Ms,
      maxMs: ring.maxMs,
      baseline,
      spin: { spinMicros, ...summarize(spinLatency) },
      throughputRatio,
      latencyRatioP50,
      messageBytes,
      count,
      rounds,
      batch,
      capacityBytes,
    }
  } finally {
    await worker.terminate()
  }
}
