// Property tests (fast-check) of the shard machine: determinism, snapshot +
// restore, counters against a recount, and a model-based comparison.
import fc from 'fast-check'
import t from 'tap'
import { ShardMachine, type ApplyOutput, type ShardCommand } from '../../src/machines/index.js'
import { concretize, randomSteps, type LogEntry, type Observed } from './helpers/random-log.js'
import { liveGauges, recountGauges } from './helpers/recount.js'
import { ReferenceQueue } from './helpers/reference-queue.js'

const RUNS = 150

/** JSON with bytes as hex, so a Buffer and a Uint8Array with the same bytes compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key]
    return raw instanceof Uint8Array ? `hex:${Buffer.from(raw).toString('hex')}` : v
  })
}

function replay(machine: ShardMachine, log: readonly LogEntry[]): Observed[] {
  return log.map(({ command, meta }) => {
    const output: ApplyOutput<unknown> = machine.apply(command, meta)
    return { result: output.result, effects: output.effects }
  })
}

t.test('determinism: the same log applied to two fresh machines gives the same answers and byte-identical snapshots', async (t) => {
  fc.assert(
    fc.property(randomSteps(), (steps) => {
      const first = new ShardMachine(1)
      const { log, observed } = concretize(steps, first)
      const second = new ShardMachine(1)
      const replayed = replay(second, log)
      if (canonical(replayed) !== canonical(observed)) return false
      return Buffer.from(first.snapshot()).equals(Buffer.from(second.snapshot())) && first.nextDueMs() === second.nextDueMs()
    }),
    { numRuns: RUNS },
  )
  t.pass('held for every drawn log')
})

t.test('snapshot at any point, restore, then the rest of the log equals applying the whole log', async (t) => {
  fc.assert(
    fc.property(randomSteps(), fc.nat(), (steps, cut) => {
      const full = new ShardMachine(1)
      const { log, observed } = concretize(steps, full)
      const at = cut % (log.length + 1)
      const head = new ShardMachine(1)
      replay(head, log.slice(0, at))
      const restored = ShardMachine.restore(head.snapshot())
      if (restored.lastAppliedIndex !== head.lastAppliedIndex || restored.nowMs !== head.nowMs) return false
      if (canonical(restored.pendingDeadLetters()) !== canonical(head.pendingDeadLetters())) return false
      const tail = replay(restored, log.slice(at))
      if (canonical(tail) !== canonical(observed.slice(at))) return false
      return Buffer.from(full.snapshot()).equals(Buffer.from(restored.snapshot())) && full.nextDueMs() === restored.nextDueMs()
    }),
    { numRuns: RUNS },
  )
  t.pass('held for every drawn log and cut')
})

t.test('the O(1) stats counters always equal a recount of the message states', async (t) => {
  fc.assert(
    fc.property(randomSteps(), (steps) => {
      const machine = new ShardMachine(1)
      const { log } = concretize(steps, new ShardMachine(1))
      for (const { command, meta } of log) {
        const { result } = machine.apply(command, meta)
        if (canonical([...liveGauges(machine)]) !== canonical([...recountGauges(machine)])) return false
        // After a tick that says it finished, nothing may be due any more.
        if (command.type === 'tick' && result.ok && !(result.value as { more: boolean }).more) {
          const nextMs = machine.nextDueMs()
          if (nextMs !== undefined && nextMs <= machine.nowMs) return false
        }
      }
      return true
    }),
    { numRuns: RUNS },
  )
  t.pass('held after every entry of every drawn log')
})

type ModelOp =
  | { op: 'send'; messages: Array<{ priority: number; delayMs: number }> }
  | { op: 'receive'; max: number }
  | { op: 'ack'; picks: number[] }
  | { op: 'nack'; pick: number; delayMs: number }
  | { op: 'tick' }

const modelOp: fc.Arbitrary<ModelOp> = fc.oneof(
  fc.record({
    op: fc.constant('send' as const),
    messages: fc.array(fc.record({ priority: fc.integer({ min: 0, max: 3 }), delayMs: fc.constantFrom(0, 0, 500, 1500) }), { minLength: 1, maxLength: 5 }),
  }),
  fc.record({ op: fc.constant('receive' as const), max: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('ack' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('nack' as const), pick: fc.nat(), delayMs: fc.constantFrom(0, 0, 700) }),
  fc.constant({ op: 'tick' as const }),
)

t.test('model-based: send/receive/ack/nack/tick agree with a naive reference queue', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 100, max: 3000 }),
      fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      fc.array(fc.record({ dtMs: fc.integer({ min: 0, max: 1200 }), op: modelOp }), { minLength: 1, maxLength: 100, size: 'max' }),
      (visibilityTimeoutMs, maxReceives, steps) => {
        const machine = new ShardMachine(4)
        const model = new ReferenceQueue(4, visibilityTimeoutMs, maxReceives)
        let index = 0
        let nowMs = 50_000
        const apply = <C extends ShardCommand>(command: C) => machine.apply(command, { index: ++index, nowMs, shard: 4 }).result
        apply({ type: 'queue.create', queue: 'q', config: { visibilityTimeoutMs, maxReceives, retentionMs: 0 } })
        const receipts: string[] = []
        for (const { dtMs, op } of steps) {
          nowMs += dtMs
          // Mostly one of the latest receipts (likely valid), sometimes any (likely stale).
          const pickReceipt = (at: number) =>
            receipts.length === 0 ? '4-9-0.1.9' : at % 4 === 0 ? receipts[at % receipts.length]! : receipts[receipts.length - 1 - (at % Math.min(3, receipts.length))]!
          switch (op.op) {
            case 'send': {
              const result = apply({ type: 'queue.send', queue: 'q', messages: op.messages.map((m) => ({ body: new Uint8Array([1]), ...m })) })
              const expected = model.send(op.messages, index, nowMs)
              if (!result.ok || canonical(result.value.ids) !== canonical(expected)) return false
              break
            }
            case 'receive': {
              const result = apply({ type: 'queue.receive', queue: 'q', max: op.max })
              const expected = model.receive(op.max, index, nowMs)
              if (!result.ok) return false
              const got = result.value.messages.map((m) => ({ id: m.id, receipt: m.receipt, receiveCount: m.receiveCount }))
              if (canonical(got) !== canonical(expected)) return false
              receipts.push(...got.map((m) => m.receipt))
              break
            }
            case 'ack': {
              const list = op.picks.map(pickReceipt)
              const result = apply({ type: 'queue.ack', queue: 'q', receipts: list })
              if (!result.ok || canonical(result.value) !== canonical(model.ack(list, nowMs))) return false
              break
            }
            case 'nack': {
              const receipt = pickReceipt(op.pick)
              const result = apply({ type: 'queue.nack', queue: 'q', receipt, delayMs: op.delayMs })
              const expected = model.nack(receipt, op.delayMs, nowMs)
              const got = result.ok ? result.value.outcome : result.error.code === 'RECEIPT_NOT_FOUND' ? undefined : 'error'
              if (got !== expected) return false
              break
            }
            case 'tick':
              apply({ type: 'tick' })
              model.tick(nowMs)
              break
          }
          const { visible, inFlight, delayed, total } = machine.queueStats('q')!
          if (canonical({ visible, inFlight, delayed, total }) !== canonical(model.stats())) return false
        }
        return true
      },
    ),
    { numRuns: RUNS },
  )
  t.pass('the machine agreed with the model on every drawn history')
})
