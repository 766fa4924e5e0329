// One queue: its messages in four states (visible, in flight, delayed,
// dead-lettering), the orders it serves them in, its dedup window and its
// counters. Every operation takes the apply context for time and effects and
// never reads a clock. Counters move only in `setState`/`addMessage`/
// `removeMessage`, so the stats are O(1) and always equal a recount.
import type { ApplyContext } from './apply-context.js'
import { DedupWindow } from './dedup-window.js'
import { deadLetterDedupId, type DeadLetterEffect } from './effects.js'
import { invariant, machineError, type MachineError } from './errors.js'
import { IndexedHeap, NOT_IN_HEAP } from './indexed-heap.js'
import { DEDUP_PRUNE_SLACK_MS, PRIORITY_DEFAULT, RECEIVE_BYTES_MAX } from './limits.js'
import { MessageTable } from './message-table.js'
import { formatMessageId, formatReceipt, messageKey, parseMessageId, parseReceipt, type MessageKey } from './message-id.js'
import type { QueueConfig } from './queue-config.js'
import type { FailedDeliveryOutcome, QueueStats, ReceivedMessage } from './results.js'
import type { SendMessage } from './commands.js'
import {
  MESSAGE_STATE_COUNT,
  MessageState,
  StoredMessage,
  deliveredBefore,
  dueBefore,
  retentionPosition,
  scheduledPosition,
  sentBefore,
} from './stored-message.js'

/** Cumulative counters; kept in snapshots (the gauges are recomputed on restore). */
export interface QueueTotals {
  sentTotal: number
  receivedTotal: number
  ackedTotal: number
  deadLetteredTotal: number
  droppedTotal: number
  expiredTotal: number
}

export function emptyTotals(): QueueTotals {
  return { sentTotal: 0, receivedTotal: 0, ackedTotal: 0, deadLetteredTotal: 0, droppedTotal: 0, expiredTotal: 0 }
}

export class QueueState {
  readonly messages = new MessageTable()
  private readonly visible = new IndexedHeap<StoredMessage>(deliveredBefore, scheduledPosition)
  /** Delayed messages by visible-at, in-flight ones by visibility deadline. */
  private readonly timers = new IndexedHeap<StoredMessage>(dueBefore, scheduledPosition)
  private readonly bySendOrder = new IndexedHeap<StoredMessage>(sentBefore, retentionPosition)
  /** Dead-lettering messages and the queue each is moving to. */
  readonly deadLetterTargets = new Map<MessageKey, string>()
  private readonly counts: number[] = new Array<number>(MESSAGE_STATE_COUNT).fill(0)
  /** Position in the shard's heap of queues by due time, and the key it is ordered by. */
  duePos = NOT_IN_HEAP
  dueMs = Infinity

  constructor(
    readonly name: string,
    public config: QueueConfig,
    readonly totals: QueueTotals = emptyTotals(),
    public dedup: DedupWindow = new DedupWindow(),
  ) {}

  get visibleCount(): number {
    return this.counts[MessageState.visible]!
  }

  stats(): QueueStats {
    const c = this.counts
    return {
      visible: c[MessageState.visible]!,
      inFlight: c[MessageState.inFlight]!,
      delayed: c[MessageState.delayed]!,
      deadLettering: c[MessageState.deadLettering]!,
      total: this.messages.size,
      ...this.totals,
    }
  }

  /** The earliest time at which `processDue` would change something, or Infinity. */
  nextDueMs(): number {
    return Math.min(this.timers.peek()?.dueMs ?? Infinity, this.retentionDueMs(), this.dedupPruneDueMs())
  }

  /**
   * Forgetting dedup ids is housekeeping (a lookup checks the time itself), so
   * it waits for DEDUP_PRUNE_SLACK_MS and then forgets every expired id at
   * once: a steady stream of dedup ids costs at most one tick per slack.
   */
  private dedupPruneDueMs(): number {
    return this.dedup.nextExpiryMs() + DEDUP_PRUNE_SLACK_MS
  }

  private retentionDueMs(): number {
    const oldest = this.bySendOrder.peek()
    return oldest === undefined || this.config.retentionMs === 0 ? Infinity : oldest.sentAtMs + this.config.retentionMs
  }

  /**
   * Performs up to `budget` transitions that are due at `ctx.nowMs`, earliest
   * first (ties: retention, then timers, then dedup): drops messages past
   * retention, makes delayed messages visible, lapses visibility (a failed
   * delivery), forgets expired dedup ids. Returns the number performed.
   */
  processDue(ctx: ApplyContext, budget: number): number {
    let performed = 0
    while (performed < budget) {
      const retentionMs = this.retentionDueMs()
      const timer = this.timers.peek()
      const timerMs = timer?.dueMs ?? Infinity
      const dedupMs = this.dedupPruneDueMs()
      const earliestMs = Math.min(retentionMs, timerMs, dedupMs)
      if (earliestMs > ctx.nowMs) break
      if (retentionMs === earliestMs) {
        this.removeMessage(this.bySendOrder.peek()!)
        this.totals.expiredTotal++
      } else if (timerMs === earliestMs) {
        this.timers.remove(timer!)
        if (timer!.state === MessageState.delayed) this.makeVisible(timer!, ctx)
        else this.failDelivery(timer!, 0, ctx)
      } else {
        do {
          this.dedup.forgetOldest()
          performed++
        } while (performed < budget && this.dedup.nextExpiryMs() <= ctx.nowMs)
        continue
      }
      performed++
    }
    return performed
  }

  /** All or nothing: QUEUE_FULL when the new (non-duplicate) messages do not fit. */
  send(messages: readonly SendMessage[], ctx: ApplyContext): { ids: string[]; duplicates: number } | MachineError {
    this.dedup.forgetExpired(ctx.nowMs)
    const keys: MessageKey[] = []
    const isNew: boolean[] = []
    const batchDedup = new Map<string, MessageKey>()
    let newCount = 0
    for (let position = 0; position < messages.length; position++) {
      const { dedupId } = messages[position]!
      const earlier = dedupId === undefined ? undefined : (this.dedup.lookup(dedupId, ctx.nowMs) ?? batchDedup.get(dedupId))
      const key = earlier ?? messageKey(ctx.index, position)
      if (earlier === undefined && dedupId !== undefined) batchDedup.set(dedupId, key)
      keys.push(key)
      isNew.push(earlier === undefined)
      if (earlier === undefined) newCount++
    }
    const { maxMessages } = this.config
    if (maxMessages > 0 && this.messages.size + newCount > maxMessages) {
      return machineError('QUEUE_FULL', `queue ${this.name} holds ${this.messages.size} of at most ${maxMessages} messages; ${newCount} more do not fit`)
    }
    for (let position = 0; position < messages.length; position++) {
      if (!isNew[position]) continue
      const message = messages[position]!
      const key = keys[position]!
      const delayMs = message.delayMs ?? this.config.delayMs
      const stored = new StoredMessage(key, message.priority ?? PRIORITY_DEFAULT, message.body, ctx.nowMs, MessageState.visible, 0, 0, 0)
      this.messages.add(stored)
      this.bySendOrder.push(stored)
      this.counts[MessageState.visible]!++
      if (delayMs > 0) this.schedule(stored, MessageState.delayed, ctx.nowMs + delayMs)
      else this.makeVisibleNew(stored, ctx)
      if (message.dedupId !== undefined) this.dedup.remember(message.dedupId, key, ctx.nowMs)
      this.totals.sentTotal++
    }
    return { ids: keys.map((key) => formatMessageId(ctx.shard, key)), duplicates: messages.length - newCount }
  }

  /** `full`: it stopped short of `max` at RECEIVE_BYTES_MAX with messages still visible. */
  receive(max: number, visibilityTimeoutMs: number | undefined, ctx: ApplyContext): { messages: ReceivedMessage[]; full?: true } {
    const timeoutMs = visibilityTimeoutMs ?? this.config.visibilityTimeoutMs
    const received: ReceivedMessage[] = []
    let bodyBytes = 0
    while (received.length < max) {
      const next = this.visible.peek()
      if (next === undefined) break
      // An answer carries at most RECEIVE_BYTES_MAX of bodies, but always one message.
      if (received.length > 0 && bodyBytes + next.bodyLength > RECEIVE_BYTES_MAX) return { messages: received, full: true }
      bodyBytes += next.bodyLength
      const message = this.visible.pop()!
      message.receiveCount++
      message.receiveLogIndex = ctx.index
      this.setState(message, MessageState.inFlight)
      message.dueMs = ctx.nowMs + timeoutMs
      this.timers.push(message)
      this.totals.receivedTotal++
      received.push({
        id: formatMessageId(ctx.shard, message.key),
        receipt: formatReceipt(ctx.shard, message.key, message.receiveCount, message.receiveLogIndex),
        body: message.body,
        receiveCount: message.receiveCount,
        sentAtMs: message.sentAtMs,
        priority: message.priority,
      })
    }
    return { messages: received }
  }

  ack(receipts: readonly string[], ctx: ApplyContext): { acked: number; missing: string[] } {
    const missing: string[] = []
    let acked = 0
    for (const receipt of new Set(receipts)) {
      const message = this.findDelivery(receipt, ctx)
      if (message === undefined) {
        missing.push(receipt)
        continue
      }
      this.removeMessage(message)
      this.totals.ackedTotal++
      acked++
    }
    return { acked, missing }
  }

  nack(receipt: string, delayMs: number, ctx: ApplyContext): { outcome: FailedDeliveryOutcome } | MachineError {
    const message = this.findDelivery(receipt, ctx)
    if (message === undefined) return this.receiptNotFound(receipt)
    this.timers.remove(message)
    return { outcome: this.failDelivery(message, delayMs, ctx) }
  }

  extendVisibility(receipt: string, timeoutMs: number, ctx: ApplyContext): { visibleAtMs: number } | MachineError {
    const message = this.findDelivery(receipt, ctx)
    if (message === undefined) return this.receiptNotFound(receipt)
    message.dueMs = ctx.nowMs + timeoutMs
    this.timers.update(message)
    return { visibleAtMs: message.dueMs }
  }

  /** Completes a dead-letter move; false when the message is no longer dead-lettering here (a repeat). */
  completeDeadLetter(messageId: string, ctx: ApplyContext): boolean {
    const key = parseMessageId(messageId, ctx.shard)
    const message = key === undefined ? undefined : this.messages.get(key)
    if (message === undefined || message.state !== MessageState.deadLettering) return false
    this.removeMessage(message)
    this.totals.deadLetteredTotal++
    return true
  }

  /** Removes every message, in any state. Dedup ids are kept: they are about sends, not messages. */
  purge(): number {
    const removed = this.messages.size
    this.visible.clear()
    this.timers.clear()
    this.bySendOrder.clear()
    this.messages.clear()
    this.deadLetterTargets.clear()
    this.counts.fill(0)
    return removed
  }

  /** Dead-lettering messages in key order, at most `limit`. */
  pendingDeadLetters(shard: number, limit: number): DeadLetterEffect[] {
    const keys = [...this.deadLetterTargets.keys()].sort((a, b) => a - b).slice(0, limit)
    return keys.map((key) => this.deadLetterEffect(shard, this.messages.get(key)!, this.deadLetterTargets.get(key)!))
  }

  /** Adds a message from a snapshot, in whatever state it was. */
  restoreMessage(message: StoredMessage, deadLetterTarget: string | undefined): void {
    invariant(!this.messages.has(message.key), 'snapshot: duplicate message key')
    this.messages.add(message)
    this.bySendOrder.push(message)
    this.counts[message.state]!++
    switch (message.state) {
      case MessageState.visible:
        this.visible.push(message)
        break
      case MessageState.inFlight:
      case MessageState.delayed:
        this.timers.push(message)
        break
      case MessageState.deadLettering:
        invariant(deadLetterTarget !== undefined, 'snapshot: dead-lettering message without a target')
        this.deadLetterTargets.set(message.key, deadLetterTarget)
        break
    }
  }

  /** The delivery a receipt names, if it is still in flight before its deadline. */
  private findDelivery(receipt: string, ctx: ApplyContext): StoredMessage | undefined {
    const parsed = parseReceipt(receipt, ctx.shard)
    if (parsed === undefined) return undefined
    const message = this.messages.get(parsed.key)
    if (
      message === undefined ||
      message.state !== MessageState.inFlight ||
      message.receiveCount !== parsed.receiveCount ||
      message.receiveLogIndex !== parsed.receiveLogIndex
    ) {
      return undefined
    }
    if (message.dueMs <= ctx.nowMs) {
      // Lapsed but not yet processed (the lazy budget ran out): the delivery failed.
      this.timers.remove(message)
      this.failDelivery(message, 0, ctx)
      return undefined
    }
    return message
  }

  private receiptNotFound(receipt: string): MachineError {
    return machineError('RECEIPT_NOT_FOUND', `receipt ${receipt} names no delivery in flight on queue ${this.name}`)
  }

  /** A nack or a lapse: the message is in no scheduling heap when this runs. */
  private failDelivery(message: StoredMessage, delayMs: number, ctx: ApplyContext): FailedDeliveryOutcome {
    const { maxReceives, deadLetterQueue } = this.config
    if (maxReceives > 0 && message.receiveCount >= maxReceives) {
      if (deadLetterQueue === null) {
        this.removeMessage(message)
        this.totals.droppedTotal++
        return 'dropped'
      }
      this.setState(message, MessageState.deadLettering)
      message.dueMs = 0
      this.deadLetterTargets.set(message.key, deadLetterQueue)
      ctx.effects.push(this.deadLetterEffect(ctx.shard, message, deadLetterQueue))
      return 'dead-lettering'
    }
    if (delayMs > 0) {
      this.schedule(message, MessageState.delayed, ctx.nowMs + delayMs)
      return 'delayed'
    }
    this.makeVisible(message, ctx)
    return 'visible'
  }

  private deadLetterEffect(shard: number, message: StoredMessage, target: string): DeadLetterEffect {
    const messageId = formatMessageId(shard, message.key)
    return {
      type: 'dead-letter',
      source: this.name,
      messageId,
      target,
      body: message.body,
      priority: message.priority,
      receiveCount: message.receiveCount,
      sentAtMs: message.sentAtMs,
      dedupId: deadLetterDedupId(messageId),
    }
  }

  private schedule(message: StoredMessage, state: typeof MessageState.delayed | typeof MessageState.inFlight, dueMs: number): void {
    this.setState(message, state)
    message.dueMs = dueMs
    this.timers.push(message)
  }

  private makeVisible(message: StoredMessage, ctx: ApplyContext): void {
    this.setState(message, MessageState.visible)
    this.makeVisibleNew(message, ctx)
  }

  /** For a message already counted as visible. */
  private makeVisibleNew(message: StoredMessage, ctx: ApplyContext): void {
    message.dueMs = 0
    this.visible.push(message)
    ctx.available.add(this.name)
  }

  private setState(message: StoredMessage, state: MessageState): void {
    this.counts[message.state]!--
    this.counts[state]!++
    message.state = state
  }

  private removeMessage(message: StoredMessage): void {
    if (message.scheduledPos !== NOT_IN_HEAP) {
      if (message.state === MessageState.visible) this.visible.remove(message)
      else this.timers.remove(message)
    }
    if (message.state === MessageState.deadLettering) this.deadLetterTargets.delete(message.key)
    this.bySendOrder.remove(message)
    this.messages.delete(message.key)
    this.counts[message.state]!--
  }
}
