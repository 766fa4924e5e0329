// Effects: instructions from `apply` that only the leader performs (followers
// drop them). They never change machine state by themselves; whatever they
// lead to comes back through the log as new commands.

/** The queue gained visible messages: wake its long-poll waiters (they propose a new receive). */
export interface MessagesAvailableEffect {
  type: 'messages-available'
  queue: string
}

/** The queue was deleted: fail its long-poll waiters with QUEUE_NOT_FOUND. */
export interface QueueDeletedEffect {
  type: 'queue-deleted'
  queue: string
}

/**
 * A message reached `maxReceives` and must move to `target` (possibly in
 * another shard). The runtime proposes, on the target's shard,
 * `queue.create {queue: target, config: {}}` then
 * `queue.send {queue: target, messages: [{body, priority, dedupId}]}`, and
 * when that succeeded, `queue.dead-lettered {queue: source, messageId}` here.
 * The source keeps the message (invisible, counted) until then, and lists it
 * in `pendingDeadLetters()` so that a new leader can drive it again; the
 * `dedupId` makes a repeated send add nothing.
 */
export interface DeadLetterEffect {
  type: 'dead-letter'
  source: string
  messageId: string
  target: string
  body: Uint8Array
  priority: number
  receiveCount: number
  sentAtMs: number
  dedupId: string
}

export type ShardEffect = MessagesAvailableEffect | QueueDeletedEffect | DeadLetterEffect

/** The dedupId of the copy of `messageId` in a dead-letter queue. */
export function deadLetterDedupId(messageId: string): string {
  return `dead-letter:${messageId}`
}
