// `npm run bench -- ring [--json] [--count N] [--rounds N] [--batch N] [--capacity BYTES] [--spin µs] [--repeats N]`
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
// polling for up to `spin` µs before sleeping (reported under `spin`, only
// when --spin is given). Process CPU time per message (both threads) is
// reported too: it is steadier than wall-clock rates on a shared machine.
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
  numberOption,
} from './lib/report.js'

const DEFAULTS = {
  count: 200_000,
  rounds: 12_000,
  repeats: 3,
  warmupRounds: 2_000,
  batch: 64,
  capacityBytes: 256 * 1024,
  /** 0 = no spin row; e.g. --spin 200 adds one (meaningful only with two idle cores). */
  spinMicros: 0,
  ackEvery: 4_096,
  windowAcks: 8,
}

function intOption(args: BenchArgs, name: string, fallback: number): number {
  return numberOption(args.options, name, fallback, true)
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

async function ringThroughput(channel: WorkerChannel, codec: Codec, count: number, batch: number, capacityBytes: number): Promise<void> {
  const ring = SpscRing.create(capacityBytes)
  channel.send({ kind: 'ring-throughput', inbound: ring.buffer, count })
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
  if (done.received !== count || done.seqSum !== expectedSeqSum(count)) {
    throw new Error(`ring delivered ${done.received} messages with seq sum ${done.seqSum}`)
  }
}

async function postThroughput(channel: WorkerChannel, count: number, ackEvery: number, windowAcks: number): Promise<void> {
  channel.send({ kind: 'post-throughput', count, ackEvery })
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
  if (reply.kind !== 'done' || reply.received !== count || reply.seqSum !== expectedSeqSum(count)) {
    throw new Error(`postMessage run ended with ${JSON.stringify(reply)}`)
  }
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

interface Throughput {
  opsPerSec: number
  /** Process CPU time (both threads, user + system) per message, in µs. */
  cpuMicrosPerMessage: number
}

/** Runs `run` over `count` messages and measures wall-clock rate and process CPU per message. */
async function measure(count: number, run: () => Promise<void>): Promise<Throughput> {
  const cpuBefore = process.cpuUsage()
  const startMs = performance.now()
  await run()
  const elapsedMs = performance.now() - startMs
  const cpu = process.cpuUsage(cpuBefore)
  return { opsPerSec: (count / elapsedMs) * 1000, cpuMicrosPerMessage: (cpu.user + cpu.system) / count }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const round2 = (n: number): number => Math.round(n * 100) / 100

export const main: BenchMain = async (args) => {
  const count = intOption(args, 'count', DEFAULTS.count)
  const rounds = intOption(args, 'rounds', DEFAULTS.rounds)
  const batch = intOption(args, 'batch', DEFAULTS.batch)
  const capacityBytes = intOption(args, 'capacity', DEFAULTS.capacityBytes)
  const spinMicros = intOption(args, 'spin', DEFAULTS.spinMicros)
  const repeats = intOption(args, 'repeats', DEFAULTS.repeats)
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
    if (spinMicros > 0) await ringPing(channel, codec, DEFAULTS.warmupRounds, spinMicros, undefined)
    await postPing(channel, DEFAULTS.warmupRounds, undefined)

    // The machine is shared, so the contenders alternate, `repeats` times each,
    // and each figure is the median (throughput) or the union (latency) of its runs.
    const ringRuns: Throughput[] = []
    const postRuns: Throughput[] = []
    const ringLatency = createLatencyHistogram()
    const spinLatency = createLatencyHistogram()
    const postLatency = createLatencyHistogram()
    const roundsPerRepeat = Math.ceil(rounds / repeats)
    for (let repeat = 0; repeat < repeats; repeat++) {
      ringRuns.push(await measure(count, () => ringThroughput(channel, codec, count, batch, capacityBytes)))
      postRuns.push(await measure(count, () => postThroughput(channel, count, DEFAULTS.ackEvery, DEFAULTS.windowAcks)))
      await ringPing(channel, codec, roundsPerRepeat, 0, ringLatency)
      await postPing(channel, roundsPerRepeat, postLatency)
      if (spinMicros > 0) await ringPing(channel, codec, roundsPerRepeat, spinMicros, spinLatency)
    }

    const ringOpsPerSec = median(ringRuns.map((r) => r.opsPerSec))
    const postOpsPerSec = median(postRuns.map((r) => r.opsPerSec))
    const ringCpuMicros = round2(median(ringRuns.map((r) => r.cpuMicrosPerMessage)))
    const postCpuMicros = round2(median(postRuns.map((r) => r.cpuMicrosPerMessage)))
    const ring: Measurement = { name: 'ring', opsPerSec: Math.round(ringOpsPerSec), ...summarize(ringLatency) }
    const baseline: Measurement = { name: 'postMessage', opsPerSec: Math.round(postOpsPerSec), ...summarize(postLatency) }
    // Same throughput path; only the waits of the ping-pong spin before sleeping.
    const spinning: Measurement | undefined =
      spinMicros > 0 ? { name: `ring, spin ${spinMicros} µs`, opsPerSec: ring.opsPerSec, ...summarize(spinLatency) } : undefined
    const throughputRatio = round2(ringOpsPerSec / postOpsPerSec)
    const latencyRatioP50 = round2(ring.p50Ms! / baseline.p50Ms!)
    const spinLatencyRatioP50 = spinning === undefined ? undefined : round2(spinning.p50Ms! / baseline.p50Ms!)
    if (!args.json) {
      process.stdout.write(
        `ring vs postMessage: ${count} one-way messages of ${messageBytes} encoded bytes (median of ${repeats} runs each), ` +
          `batch ${batch}, ring ${capacityBytes} B; latency columns: ${roundsPerRepeat * repeats} round trips each\n`,
      )
      process.stdout.write(formatTable(spinning === undefined ? [ring, baseline] : [ring, spinning, baseline]) + '\n')
      process.stdout.write(
        `throughput ratio ${throughputRatio}x; CPU per message ${ringCpuMicros} µs (ring) vs ${postCpuMicros} µs (postMessage); ` +
          `p50 round-trip ratio ${latencyRatioP50}` +
          (spinLatencyRatioP50 === undefined ? '\n' : ` (with spin ${spinLatencyRatioP50})\n`),
      )
    }
    return {
      bench: 'ring',
      opsPerSec: ring.opsPerSec,
      p50Ms: ring.p50Ms,
      p99Ms: ring.p99Ms,
      p999Ms: ring.p999Ms,
      maxMs: ring.maxMs,
      baseline: { ...baseline },
      ...(spinning === undefined ? {} : { spin: { spinMicros, ...summarize(spinLatency) }, spinLatencyRatioP50 }),
      throughputRatio,
      latencyRatioP50,
      cpuMicrosPerMessage: ringCpuMicros,
      baselineCpuMicrosPerMessage: postCpuMicros,
      runs: {
        ringOpsPerSec: ringRuns.map((r) => Math.round(r.opsPerSec)),
        postMessageOpsPerSec: postRuns.map((r) => Math.round(r.opsPerSec)),
      },
      messageBytes,
      count,
      rounds: roundsPerRepeat * repeats,
      repeats,
      batch,
      capacityBytes,
    }
  } finally {
    await worker.terminate()
  }
}
