// The replicated state machine of one shard replica: the queues whose names
// hash to the shard and the KV keys that hash to it. Ra-style and pure:
// `apply(command, meta) → {result, effects}`; time comes only from the
// leader's stamp in `meta`, and the machine's time never goes backwards.
//
// Contract with the node:
// - Apply committed entries in log order, each exactly once (index strictly
//   increasing; after `restore`, continue from `lastAppliedIndex + 1`).
// - One log entry carries one command (message ids and KV versions derive
//   from the entry's index).
// - Perform `effects` on the leader only; followers drop them.
// - Propose `{type: 'tick'}` when the leader's clock reaches `nextDueMs()`.
// - Reads (`kvGet`, `queueStats`, ...) are not commands: serve them after a
//   ReadIndex on the leader, or stale on a follower.
import type { ApplyContext } from './apply-context.js'
import { checkShardCommand, type ShardCommand } from './commands.js'
import type { DeadLetterEffect } from './effects.js'
import { MachineInvariantError, invariant, machineError, type MachineError } from './errors.js'
import { IndexedHeap, type HeapPosition } from './indexed-heap.js'
import { KvStore } from './kv-store.js'
import { LAZY_TRANSITIONS_MAX, LOG_INDEX_MAX, PENDING_DEAD_LETTERS_LIST_MAX, SHARD_QUEUES_MAX, TICK_TRANSITIONS_MAX } from './limits.js'
import { applyQueueConfigPatch, configMatchesPatch, defaultQueueConfig, type QueueConfig } from './queue-config.js'
import { QueueState } from './queue-state.js'
import type { ApplyMeta, ApplyOutput, ApplyResult, CommandResults, KvEntryView, QueueStats } from './results.js'
import { decodeShardSnapshot, decodeShardSnapshotInSlices, shardSnapshotParts, type ShardSnapshotState } from './snapshot-codec.js'
import { concatParts, type SnapshotParts } from './snapshot-parts.js'

const duePosition: HeapPosition<QueueState> = {
  get: (q) => q.duePos,
  set: (q, p) => {
    q.duePos = p
  },
}

function queueDueBefore(a: QueueState, b: QueueState): boolean {
  return a.dueMs !== b.dueMs ? a.dueMs < b.dueMs : a.name < b.name
}

type AnyResult = CommandResults[keyof CommandResults]

export class ShardMachine {
  private clock = 0
  private appliedIndex = 0
  private readonly queues = new Map<string, QueueState>()
  /** Queues with something due, by due time: makes `nextDueMs` O(1) and a tick O(due · log n). */
  private readonly dueQueues = new IndexedHeap<QueueState>(queueDueBefore, duePosition)
  private readonly kv = new KvStore()

  constructor(readonly shard: number) {
    invariant(Number.isSafeInteger(shard) && shard >= 0, 'shard must be a non-negative integer')
  }

  /** Index of the last applied entry (0 before any). */
  get lastAppliedIndex(): number {
    return this.appliedIndex
  }

  /** The machine's time: the largest leader stamp applied so far. */
  get nowMs(): number {
    return this.clock
  }

  apply<C extends ShardCommand>(command: C, meta: ApplyMeta): ApplyOutput<CommandResults[C['type']]> {
    this.checkMeta(meta)
    this.appliedIndex = meta.index
    this.clock = Math.max(this.clock, meta.nowMs)
    const ctx: ApplyContext = { shard: this.shard, index: meta.index, nowMs: this.clock, effects: [], available: new Set() }
    const error = checkShardCommand(command)
    const result: ApplyResult<AnyResult> = error !== undefined ? { ok: false, error } : this.dispatch(command, ctx)
    for (const queue of ctx.available) {
      if ((this.queues.get(queue)?.visibleCount ?? 0) > 0) ctx.effects.push({ type: 'messages-available', queue })
    }
    return { result: result as ApplyResult<CommandResults[C['type']]>, effects: ctx.effects }
  }

  /** The earliest machine time at which a `tick` would change something; undefined when nothing is pending. */
  nextDueMs(): number | undefined {
    const dueMs = Math.min(this.dueQueues.peek()?.dueMs ?? Infinity, this.kv.nextDueMs())
    return dueMs === Infinity ? undefined : dueMs
  }

  /** A KV read at `nowMs` (the reader's clock): an expired key reads as absent even before a tick removed it. */
  kvGet(key: string, nowMs: number): KvEntryView | undefined {
    return this.kv.get(key, Math.max(nowMs, this.clock))
  }

  get kvSize(): number {
    return this.kv.size
  }

  queueStats(name: string): QueueStats | undefined {
    return this.queues.get(name)?.stats()
  }

  queueConfig(name: string): QueueConfig | undefined {
    const queue = this.queues.get(name)
    return queue === undefined ? undefined : { ...queue.config }
  }

  /** Names of this shard's queues, sorted. */
  queueNames(): string[] {
    return [...this.queues.keys()].sort()
  }

  /**
   * Messages still waiting for their dead-letter move, as the effects that
   * drive it (a new leader performs them again; the DLQ send is deduplicated).
   * In (queue name, message id) order, at most `limit`.
   */
  pendingDeadLetters(limit = PENDING_DEAD_LETTERS_LIST_MAX): DeadLetterEffect[] {
    const pending: DeadLetterEffect[] = []
    for (const name of this.queueNames()) {
      if (pending.length >= limit) break
      pending.push(...this.queues.get(name)!.pendingDeadLetters(this.shard, limit - pending.length))
    }
    return pending
  }

  /** msgpack of the whole state; equal states give equal bytes. */
  snapshot(): Uint8Array {
    return concatParts(this.snapshotParts())
  }

  /**
   * The same snapshot as parts to be joined later (snapshot-parts.ts): taken
   * in one pass, unaffected by whatever the machine applies afterwards.
   */
  snapshotParts(): SnapshotParts {
    return shardSnapshotParts({
      shard: this.shard,
      appliedIndex: this.appliedIndex,
      clockMs: this.clock,
      queues: [...this.queues.values()],
      kvEntries: [...this.kv.entries.values()],
    })
  }

  static restore(bytes: Uint8Array): ShardMachine {
    return ShardMachine.fromState(decodeShardSnapshot(bytes))
  }

  /** As restore, decoding in slices between other work (see decodeShardSnapshotInSlices). */
  static async restoreInSlices(bytes: Uint8Array): Promise<ShardMachine> {
    return ShardMachine.fromState(await decodeShardSnapshotInSlices(bytes))
  }

  private static fromState(state: ShardSnapshotState): ShardMachine {
    const machine = new ShardMachine(state.shard)
    machine.appliedIndex = state.appliedIndex
    machine.clock = state.clockMs
    for (const queue of state.queues) {
      machine.queues.set(queue.name, queue)
      machine.touch(queue)
    }
    for (const entry of state.kvEntries) machine.kv.restoreEntry(entry)
    return machine
  }

  private checkMeta(meta: ApplyMeta): void {
    if (meta.shard !== this.shard) throw new MachineInvariantError(`entry of shard ${meta.shard} applied to shard ${this.shard}`)
    if (!Number.isSafeInteger(meta.index) || meta.index <= this.appliedIndex || meta.index > LOG_INDEX_MAX) {
      throw new MachineInvariantError(`entry index ${meta.index} applied after ${this.appliedIndex}`)
    }
    if (!Number.isSafeInteger(meta.nowMs) || meta.nowMs < 0) throw new MachineInvariantError(`entry time ${meta.nowMs} is not a timestamp`)
  }

  private dispatch(command: ShardCommand, ctx: ApplyContext): ApplyResult<AnyResult> {
    switch (command.type) {
      case 'tick':
        return ok(this.tick(ctx))
      case 'kv.put':
        return wrap(this.kv.put(command.key, command.value, command.ttlMs ?? 0, command.ifVersion, ctx.index, ctx.nowMs))
      case 'kv.delete':
        return wrap(this.kv.delete(command.key, command.ifVersion, ctx.nowMs))
      case 'queue.create':
        return this.createQueue(command.queue, command, ctx)
      default:
        return this.onQueue(command, ctx)
    }
  }

  private createQueue(name: string, command: Extract<ShardCommand, { type: 'queue.create' }>, ctx: ApplyContext): ApplyResult<AnyResult> {
    const existing = this.queues.get(name)
    if (existing !== undefined) {
      existing.processDue(ctx, LAZY_TRANSITIONS_MAX)
      if (command.update === true) {
        existing.config = applyQueueConfigPatch(existing.config, command.config)
      } else if (!configMatchesPatch(existing.config, command.config)) {
        this.touch(existing)
        return fail(machineError('CONFLICT', `queue ${name} exists with a different config`))
      }
      this.touch(existing)
      return ok({ created: false, config: { ...existing.config } })
    }
    if (this.queues.size >= SHARD_QUEUES_MAX) return fail(machineError('INVALID_ARGUMENT', `a shard holds at most ${SHARD_QUEUES_MAX} queues`))
    const queue = new QueueState(name, applyQueueConfigPatch(defaultQueueConfig(), command.config))
    this.queues.set(name, queue)
    return ok({ created: true, config: { ...queue.config } })
  }

  private onQueue(command: Exclude<ShardCommand, { type: 'tick' | 'kv.put' | 'kv.delete' | 'queue.create' }>, ctx: ApplyContext): ApplyResult<AnyResult> {
    const queue = this.queues.get(command.queue)
    if (queue === undefined) return fail(machineError('QUEUE_NOT_FOUND', `queue ${command.queue} does not exist`))
    if (command.type === 'queue.delete') {
      const removedMessages = queue.purge()
      if (this.dueQueues.contains(queue)) this.dueQueues.remove(queue)
      this.queues.delete(queue.name)
      ctx.available.delete(queue.name)
      ctx.effects.push({ type: 'queue-deleted', queue: queue.name })
      return ok({ removedMessages })
    }
    queue.processDue(ctx, LAZY_TRANSITIONS_MAX)
    const result = this.onExistingQueue(queue, command, ctx)
    this.touch(queue)
    return result
  }

  private onExistingQueue(
    queue: QueueState,
    command: Exclude<ShardCommand, { type: 'tick' | 'kv.put' | 'kv.delete' | 'queue.create' | 'queue.delete' }>,
    ctx: ApplyContext,
  ): ApplyResult<AnyResult> {
    switch (command.type) {
      case 'queue.update':
        queue.config = applyQueueConfigPatch(queue.config, command.config)
        return ok({ config: { ...queue.config } })
      case 'queue.purge':
        return ok({ removedMessages: queue.purge() })
      case 'queue.send':
        return wrap(queue.send(command.messages, ctx))
      case 'queue.receive':
        return ok(queue.receive(command.max, command.visibilityTimeoutMs, ctx))
      case 'queue.ack':
        return ok(queue.ack(command.receipts, ctx))
      case 'queue.nack':
        return wrap(queue.nack(command.receipt, command.delayMs ?? 0, ctx))
      case 'queue.visibility':
        return wrap(queue.extendVisibility(command.receipt, command.timeoutMs, ctx))
      case 'queue.dead-lettered':
        return ok({ removed: queue.completeDeadLetter(command.messageId, ctx) })
    }
  }

  private tick(ctx: ApplyContext): CommandResults['tick'] {
    let transitions = 0
    for (;;) {
      const queue = this.dueQueues.peek()
      if (queue === undefined || queue.dueMs > ctx.nowMs || transitions >= TICK_TRANSITIONS_MAX) break
      const performed = queue.processDue(ctx, TICK_TRANSITIONS_MAX - transitions)
      invariant(performed > 0, `queue ${queue.name} was due at ${queue.dueMs} but had nothing to do at ${ctx.nowMs}`)
      transitions += performed
      this.touch(queue)
    }
    transitions += this.kv.expireDue(ctx.nowMs, TICK_TRANSITIONS_MAX - transitions)
    const nextMs = this.nextDueMs()
    return { transitions, more: nextMs !== undefined && nextMs <= ctx.nowMs }
  }

  /** Re-files the queue in the due heap after an operation may have changed its due time. */
  private touch(queue: QueueState): void {
    const dueMs = queue.nextDueMs()
    const filed = this.dueQueues.contains(queue)
    queue.dueMs = dueMs
    if (dueMs === Infinity) {
      if (filed) this.dueQueues.remove(queue)
    } else if (filed) this.dueQueues.update(queue)
    else this.dueQueues.push(queue)
  }
}

function ok(value: AnyResult): ApplyResult<AnyResult> {
  return { ok: true, value }
}

function fail(error: MachineError): ApplyResult<AnyResult> {
  return { ok: false, error }
}

function isError(value: AnyResult | MachineError): value is MachineError {
  return typeof (value as MachineError).code === 'string' && typeof (value as MachineError).message === 'string'
}

function wrap(value: AnyResult | MachineError): ApplyResult<AnyResult> {
  return isError(value) ? fail(value) : ok(value)
}
