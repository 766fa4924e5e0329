// Random command logs for the property tests. fast-check draws abstract
// operations ("ack the 3rd receipt seen so far"); `concretize` runs them on a
// machine to turn them into concrete log entries, which any number of other
// machines can then replay.
import fc from 'fast-check'
import { ShardMachine, type ApplyMeta, type QueueConfigPatch, type ShardCommand, type ShardEffect } from '../../../src/machines/index.js'

export const QUEUES = ['q0', 'q1', 'dlq'] as const
const KEYS = ['k0', 'k1', 'k2'] as const

export type Op =
  | { op: 'create'; q: number; config: QueueConfigPatch; update: boolean }
  | { op: 'update'; q: number; config: QueueConfigPatch }
  | { op: 'delete'; q: number }
  | { op: 'purge'; q: number }
  | { op: 'send'; q: number; messages: Array<{ priority?: number; delayMs?: number; dedup?: number }> }
  | { op: 'receive'; q: number; max: number; visibilityTimeoutMs?: number }
  | { op: 'ack'; q: number; picks: number[] }
  | { op: 'nack'; q: number; pick: number; delayMs?: number }
  | { op: 'visibility'; q: number; pick: number; timeoutMs: number }
  | { op: 'dead-lettered'; q: number; pick: number }
  | { op: 'kv.put'; key: number; ttlMs?: number; ifVersion?: 'current' | 'zero' | 'stale' }
  | { op: 'kv.delete'; key: number; ifVersion?: 'current' | 'stale' }
  | { op: 'tick' }
  | { op: 'garbage' }

export interface Step {
  /** Time passed since the previous entry; negative sometimes, as a new leader's clock may lag. */
  dtMs: number
  op: Op
}

const queueIndex = fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.constant(1), weight: 2 }, { arbitrary: fc.constant(2), weight: 1 })

const config: fc.Arbitrary<QueueConfigPatch> = fc.record(
  {
    visibilityTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 2000, max: 20_000 })),
    maxReceives: fc.integer({ min: 0, max: 3 }),
    deadLetterQueue: fc.constantFrom<string | null>(null, 'dlq', 'q1'),
    maxMessages: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })),
    delayMs: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 2000 }), weight: 1 }),
    retentionMs: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.integer({ min: 10_000, max: 60_000 }), weight: 1 }),
  },
  { requiredKeys: [] },
)

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('create' as const), q: queueIndex, config, update: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('update' as const), q: queueIndex, config }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), q: queueIndex }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('purge' as const), q: queueIndex }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('send' as const),
      q: queueIndex,
      messages: fc.array(
        fc.record(
          {
            priority: fc.integer({ min: 0, max: 9 }),
            delayMs: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 3000 }), weight: 1 }),
            dedup: fc.integer({ min: 0, max: 40 }),
          },
          { requiredKeys: [] },
        ),
        { minLength: 1, maxLength: 4 },
      ),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record(
      { op: fc.constant('receive' as const), q: queueIndex, max: fc.integer({ min: 1, max: 5 }), visibilityTimeoutMs: fc.integer({ min: 100, max: 20_000 }) },
      { requiredKeys: ['op', 'q', 'max'] },
    ),
    weight: 8,
  },
  { arbitrary: fc.record({ op: fc.constant('ack' as const), q: queueIndex, picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }), weight: 5 },
  {
    arbitrary: fc.record({ op: fc.constant('nack' as const), q: queueIndex, pick: fc.nat(), delayMs: fc.integer({ min: 0, max: 2000 }) }, { requiredKeys: ['op', 'q', 'pick'] }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('visibility' as const), q: queueIndex, pick: fc.nat(), timeoutMs: fc.integer({ min: 1, max: 5000 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('dead-lettered' as const), q: queueIndex, pick: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record(
      {
        op: fc.constant('kv.put' as const),
        key: fc.integer({ min: 0, max: KEYS.length - 1 }),
        ttlMs: fc.integer({ min: 0, max: 3000 }),
        ifVersion: fc.constantFrom<'current' | 'zero' | 'stale'>('current', 'zero', 'stale'),
      },
      { requiredKeys: ['op', 'key'] },
    ),
    weight: 3,
  },
  {
    arbitrary: fc.record(
      { op: fc.constant('kv.delete' as const), key: fc.integer({ min: 0, max: KEYS.length - 1 }), ifVersion: fc.constantFrom<'current' | 'stale'>('current', 'stale') },
      { requiredKeys: ['op', 'key'] },
    ),
    weight: 1,
  },
  { arbitrary: fc.constant({ op: 'tick' as const }), weight: 4 },
  { arbitrary: fc.constant({ op: 'garbage' as const }), weight: 1 },
)

const step: fc.Arbitrary<Step> = fc.record({
  dtMs: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 10 },
    { arbitrary: fc.integer({ min: 300, max: 10_000 }), weight: 1 },
    { arbitrary: fc.integer({ min: -2000, max: -1 }), weight: 1 },
  ),
  op,
})

/** Logs that start by creating every queue (so that most commands find theirs), then `1..maxLength` random steps. */
export function randomSteps(maxLength = 80): fc.Arbitrary<Step[]> {
  const creates = fc.tuple(config, config, config).map((configs) =>
    configs.map((c, q): Step => ({ dtMs: 0, op: { op: 'create', q, config: c, update: false } })),
  )
  return fc.tuple(creates, fc.array(step, { minLength: 1, maxLength, size: 'max' })).map(([head, tail]) => [...head, ...tail])
}

export interface LogEntry {
  command: ShardCommand
  meta: ApplyMeta
}

export interface Observed {
  result: unknown
  effects: ShardEffect[]
}

const encoder = new TextEncoder()

/** Runs the steps on `machine` (shard 1, from its state), returning the concrete log and what each entry answered. */
export function concretize(steps: readonly Step[], machine: ShardMachine, startNowMs = 1_000_000): { log: LogEntry[]; observed: Observed[] } {
  const receipts: string[][] = QUEUES.map(() => [])
  const deadLetterIds: string[][] = QUEUES.map(() => [])
  const log: LogEntry[] = []
  const observed: Observed[] = []
  let nowMs = startNowMs
  let index = machine.lastAppliedIndex
  let bodyCounter = 0
  for (const { dtMs, op } of steps) {
    nowMs = Math.max(0, nowMs + dtMs)
    const command = toCommand(op, receipts, deadLetterIds, machine, nowMs, () => encoder.encode(`body-${bodyCounter++}`))
    const meta: ApplyMeta = { index: ++index, nowMs, shard: machine.shard }
    const output = machine.apply(command, meta)
    log.push({ command, meta })
    observed.push({ result: output.result, effects: output.effects })
    if (output.result.ok && command.type === 'queue.receive') {
      const q = QUEUES.indexOf(command.queue as (typeof QUEUES)[number])
      for (const m of (output.result.value as { messages: Array<{ receipt: string }> }).messages) receipts[q]!.push(m.receipt)
    }
    for (const effect of output.effects) {
      if (effect.type === 'dead-letter') deadLetterIds[QUEUES.indexOf(effect.source as (typeof QUEUES)[number])]!.push(effect.messageId)
    }
  }
  return { log, observed }
}

/** Mostly one of the latest few (likely still valid), sometimes any earlier one (likely stale). */
function pick<T>(list: readonly T[], at: number): T | undefined {
  if (list.length === 0) return undefined
  return at % 4 === 0 ? list[at % list.length] : list[list.length - 1 - (at % Math.min(list.length, 3))]
}

function toCommand(
  op: Op,
  receipts: string[][],
  deadLetterIds: string[][],
  machine: ShardMachine,
  nowMs: number,
  nextBody: () => Uint8Array,
): ShardCommand {
  const queueOf = (q: number) => QUEUES[q]!
  const bogusReceipt = '1-999999-0.1.1000000'
  switch (op.op) {
    case 'create':
      return { type: 'queue.create', queue: queueOf(op.q), config: withoutSelfDlq(op.config, queueOf(op.q)), update: op.update }
    case 'update':
      return { type: 'queue.update', queue: queueOf(op.q), config: withoutSelfDlq(op.config, queueOf(op.q)) }
    case 'delete':
      return { type: 'queue.delete', queue: queueOf(op.q) }
    case 'purge':
      return { type: 'queue.purge', queue: queueOf(op.q) }
    case 'send':
      return {
        type: 'queue.send',
        queue: queueOf(op.q),
        messages: op.messages.map((m) => {
          const message: { body: Uint8Array; priority?: number; delayMs?: number; dedupId?: string } = { body: nextBody() }
          if (m.priority !== undefined) message.priority = m.priority
          if (m.delayMs !== undefined) message.delayMs = m.delayMs
          if (m.dedup !== undefined) message.dedupId = `d${m.dedup}`
          return message
        }),
      }
    case 'receive':
      return op.visibilityTimeoutMs === undefined
        ? { type: 'queue.receive', queue: queueOf(op.q), max: op.max }
        : { type: 'queue.receive', queue: queueOf(op.q), max: op.max, visibilityTimeoutMs: op.visibilityTimeoutMs }
    case 'ack':
      return { type: 'queue.ack', queue: queueOf(op.q), receipts: op.picks.map((p) => pick(receipts[op.q]!, p) ?? bogusReceipt) }
    case 'nack': {
      const command: ShardCommand = { type: 'queue.nack', queue: queueOf(op.q), receipt: pick(receipts[op.q]!, op.pick) ?? bogusReceipt }
      if (op.delayMs !== undefined) command.delayMs = op.delayMs
      return command
    }
    case 'visibility':
      return { type: 'queue.visibility', queue: queueOf(op.q), receipt: pick(receipts[op.q]!, op.pick) ?? bogusReceipt, timeoutMs: op.timeoutMs }
    case 'dead-lettered':
      return { type: 'queue.dead-lettered', queue: queueOf(op.q), messageId: pick(deadLetterIds[op.q]!, op.pick) ?? '1-999999-0' }
    case 'kv.put': {
      const key = KEYS[op.key]!
      const command: ShardCommand = { type: 'kv.put', key, value: nextBody() }
      if (op.ttlMs !== undefined) command.ttlMs = op.ttlMs
      const current = machine.kvGet(key, nowMs)?.version ?? 0
      if (op.ifVersion === 'current') command.ifVersion = current
      else if (op.ifVersion === 'zero') command.ifVersion = 0
      else if (op.ifVersion === 'stale') command.ifVersion = current + 1
      return command
    }
    case 'kv.delete': {
      const key = KEYS[op.key]!
      const current = machine.kvGet(key, nowMs)?.version
      if (op.ifVersion === undefined || current === undefined) return { type: 'kv.delete', key }
      return { type: 'kv.delete', key, ifVersion: op.ifVersion === 'current' ? current : current + 1 }
    }
    case 'tick':
      return { type: 'tick' }
    case 'garbage':
      return { type: 'queue.send', queue: 'q0', messages: [] } as ShardCommand
  }
}

function withoutSelfDlq(config: QueueConfigPatch, queue: string): QueueConfigPatch {
  return config.deadLetterQueue === queue ? { ...config, deadLetterQueue: null } : config
}
