// The contract's limits (CONTRACT §3–§4) and the machine's own bounds, in one
// place so that the HTTP gateway, the TCP protocol and the machine agree.

export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/
export const QUEUE_NAME_LENGTH_MAX = 128
export const KV_KEY_BYTES_MAX = 1024
export const MESSAGE_BODY_BYTES_MAX = 1024 * 1024
export const KV_VALUE_BYTES_MAX = 1024 * 1024
/** A whole request (e.g. a send batch) may carry at most this many body bytes. */
export const REQUEST_BYTES_MAX = 10 * 1024 * 1024
export const SEND_BATCH_MESSAGES_MAX = 1000
export const PRIORITY_MIN = 0
export const PRIORITY_MAX = 9
export const PRIORITY_DEFAULT = 0
export const RECEIVE_WAIT_MS_MAX = 20_000
export const RECEIVE_MESSAGES_MAX = 100
/** A receive hands out messages until their bodies would pass this (always at least one): an answer is no larger than a request. */
export const RECEIVE_BYTES_MAX = REQUEST_BYTES_MAX
export const ACK_RECEIPTS_MAX = 1000
export const DEDUP_WINDOW_MS = 5 * 60 * 1000
export const DEDUP_ID_LENGTH_MAX = 128
/** Expired dedup ids are forgotten in batches, this long after the oldest expired (see queue-state.ts). */
export const DEDUP_PRUNE_SLACK_MS = 1000
/** Receipts and message ids are produced by the machine; anything longer is not one of ours. */
export const RECEIPT_LENGTH_MAX = 128
export const MESSAGE_ID_LENGTH_MAX = 64

export const VISIBILITY_TIMEOUT_MS_MAX = 12 * 60 * 60 * 1000
export const DELAY_MS_MAX = 7 * 24 * 60 * 60 * 1000
export const RETENTION_MS_MAX = 14 * 24 * 60 * 60 * 1000
export const MAX_RECEIVES_MAX = 1000
export const MAX_MESSAGES_MAX = 100_000_000
export const KV_TTL_MS_MAX = 365 * 24 * 60 * 60 * 1000

export const QUEUE_CONFIG_DEFAULTS = {
  visibilityTimeoutMs: 30_000,
  maxReceives: 0,
  deadLetterQueue: null,
  maxMessages: 0,
  delayMs: 0,
  retentionMs: 345_600_000,
} as const

/** Queues one shard may hold; creating more is refused with INVALID_ARGUMENT. */
export const SHARD_QUEUES_MAX = 100_000
/** Due transitions one `tick` performs; when more are due, `nextDueMs()` stays in the past and the leader ticks again. */
export const TICK_TRANSITIONS_MAX = 10_000
/** Due transitions performed lazily at the start of a command that touches a queue. */
export const LAZY_TRANSITIONS_MAX = 1000
/** Entries `pendingDeadLetters()` returns at most per call. */
export const PENDING_DEAD_LETTERS_LIST_MAX = 10_000
/**
 * Message keys are `logIndex * MESSAGE_SLOTS_PER_ENTRY + position`, so a batch
 * must fit in the slots and log indexes stay below 2^53 / 1024 (≈ 8.8e12).
 */
export const MESSAGE_SLOTS_PER_ENTRY = 1024
export const LOG_INDEX_MAX = Math.floor(Number.MAX_SAFE_INTEGER / MESSAGE_SLOTS_PER_ENTRY)
