// `npm run bench -- machines [--json] [--messages N] [--batch B] [--body-bytes S]`
//
// The shard state machine alone, in one thread, no log or I/O: how fast
// `apply` takes sends (batched and single), receives + acks, and lapses
// through ticks; how much memory N queued messages take; how long a snapshot
// of them takes to encode and restore. Latency is per `apply` call.
import { performance } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { ShardMachine, type ShardCommand } from '../src/machines/index.js'
import { createLatencyHistogram, formatTable, summarize, type BenchArgs, type BenchResult, type Measurement, numberOption } from './lib/report.js'


setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

function heapBytes(): number {
  collectGarbage()
  collectGarbage()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

class Driver {
  index = 0
  nowMs = 1_700_000_000_000
  readonly histogram = createLatencyHistogram()

  constructor(public machine: ShardMachine) {}

  apply(command: ShardCommand): unknown {
    const started = performance.now()
    const { result } = this.machine.apply(command, { index: ++this.index, nowMs: this.nowMs, shard: this.machine.shard })
    this.histogram.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)))
    if (!result.ok) throw new Error(`${command.type}: ${result.error.code} ${result.error.message}`)
    return result.value
  }
}

function measure(name: string, driver: Driver, ops: number, seconds: number): Measurement {
  return { name, opsPerSec: ops / seconds, ...summarize(driver.histogram) }
}

export async function main(args: BenchArgs): Promise<BenchResult> {
  const messageCount = numberOption(args.options, 'messages', 1_000_000, true)
  const batchSize = Math.min(numberOption(args.options, 'batch', 100, true), 1000)
  const bodyBytes = numberOption(args.options, 'body-bytes', 64, true)
  const body = new Uint8Array(bodyBytes).fill(7)
  const rows: Measurement[] = []

  const heapBefore = heapBytes()
  let driver = new Driver(new ShardMachine(1))
  driver.apply({ type: 'queue.create', queue: 'q', config: { retentionMs: 0, visibilityTimeoutMs: 60_000 } })
  const batch = Array.from({ length: batchSize }, (_, i) => ({ body: body.slice(), priority: i % 10 }))
  let started = performance.now()
  for (let sent = 0; sent < messageCount; sent += batchSize) {
    driver.apply({ type: 'queue.send', queue: 'q', messages: batch.map((m) => ({ body: m.body.slice(), priority: m.priority })) })
  }
  const sendSeconds = (performance.now() - started) / 1000
  rows.push(measure(`send batch of ${batchSize} (messages/s)`, driver, messageCount, sendSeconds))
  const heapAfter = heapBytes()
  const bytesPerMessage = (heapAfter - heapBefore) / messageCount

  started = performance.now()
  const snapshot = driver.machine.snapshot()
  const snapshotMs = performance.now() - started
  started = performance.now()
  const restored = ShardMachine.restore(snapshot)
  const restoreMs = performance.now() - started
  if (restored.queueStats('q')!.total !== messageCount) throw new Error('restore lost messages')

  // Receive + ack on the restored machine, until the queue is empty.
  driver = Object.assign(new Driver(restored), { index: restored.lastAppliedIndex, nowMs: restored.nowMs })
  started = performance.now()
  let drained = 0
  for (let round = 0; round < messageCount; round++) {
    const { messages } = driver.apply({ type: 'queue.receive', queue: 'q', max: 100 }) as { messages: Array<{ receipt: string }> }
    if (messages.length === 0) break
    driver.apply({ type: 'queue.ack', queue: 'q', receipts: messages.map((m) => m.receipt) })
    drained += messages.length
  }
  rows.push(measure('receive 100 + ack 100 (messages/s)', driver, drained, (performance.now() - started) / 1000))

  // Single-message sends: the per-entry cost when nothing is batched.
  const singles = Math.max(1, Math.floor(messageCount / 10))
  driver = new Driver(new ShardMachine(1))
  driver.apply({ type: 'queue.create', queue: 'q', config: { retentionMs: 0, visibilityTimeoutMs: 10 } })
  started = performance.now()
  for (let i = 0; i < singles; i++) driver.apply({ type: 'queue.send', queue: 'q', messages: [{ body: body.slice() }] })
  const single = measure('send 1 (messages/s)', driver, singles, (performance.now() - started) / 1000)
  rows.push(single)

  // Lapses: receive everything with a 10 ms visibility timeout, then tick past it.
  for (let round = 0; round < singles; round++) {
    const { messages } = driver.apply({ type: 'queue.receive', queue: 'q', max: 100 }) as { messages: unknown[] }
    if (messages.length === 0) break
  }
  driver.nowMs += 10
  const tickDriver = Object.assign(new Driver(driver.machine), { index: driver.index, nowMs: driver.nowMs })
  started = performance.now()
  let lapsed = 0
  for (let round = 0; round < singles; round++) {
    const { transitions, more } = tickDriver.apply({ type: 'tick' }) as { transitions: number; more: boolean }
    lapsed += transitions
    if (!more) break
  }
  rows.push(measure('tick: lapsed visibility (transitions/s)', tickDriver, lapsed, (performance.now() - started) / 1000))

  // KV puts, 1000 keys round-robin.
  const kvDriver = new Driver(new ShardMachine(1))
  started = performance.now()
  for (let i = 0; i < singles; i++) kvDriver.apply({ type: 'kv.put', key: `key-${i % 1000}`, value: body.slice() })
  rows.push(measure('kv.put (ops/s)', kvDriver, singles, (performance.now() - started) / 1000))

  if (!args.json) {
    process.stdout.write(formatTable(rows) + '\n')
    process.stdout.write(
      `${messageCount} messages of ${bodyBytes} B: ${Math.round(bytesPerMessage)} B of heap per message; ` +
        `snapshot ${(snapshot.byteLength / 1e6).toFixed(1)} MB encoded in ${Math.round(snapshotMs)} ms, restored in ${Math.round(restoreMs)} ms\n`,
    )
  }
  return {
    bench: 'machines',
    opsPerSec: rows[0]!.opsPerSec,
    p50Ms: rows[0]!.p50Ms,
    p99Ms: rows[0]!.p99Ms,
    messages: messageCount,
    bodyBytes,
    heapBytesPerMessage: Math.round(bytesPerMessage),
    snapshotBytes: snapshot.byteLength,
    snapshotMs: Math.round(snapshotMs),
    restoreMs: Math.round(restoreMs),
    runs: rows,
  }
}
