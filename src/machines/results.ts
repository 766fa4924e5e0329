// What `apply` answers, per command type.
import type { ShardCommandType } from './commands.js'
import type { ShardEffect } from './effects.js'
import type { MachineError } from './errors.js'
import type { QueueConfig } from './queue-config.js'

export interface ReceivedMessage {
  id: string
  /** Names this delivery; invalid once the visibility deadline passes or the message is delivered again. */
  receipt: string
  body: Uint8Array
  /** Deliveries so far, this one included. */
  receiveCount: number
  sentAtMs: number
  priority: number
}

/** Where a failed delivery (nack, or a lapsed visibility timeout) left the message. */
export type FailedDeliveryOutcome = 'visible' | 'delayed' | 'dead-lettering' | 'dropped'

export interface CommandResults {
  'queue.create': { created: boolean; config: QueueConfig }
  'queue.update': { config: QueueConfig }
  'queue.delete': { removedMessages: number }
  'queue.purge': { removedMessages: number }
  /** One id per message sent, in order; a deduplicated message gets the first send's id. */
  'queue.send': { ids: string[]; duplicates: number }
  /** `full`: the answer stopped short of `max` at RECEIVE_BYTES_MAX of bodies, with messages still visible. */
  'queue.receive': { messages: ReceivedMessage[]; full?: true }
  /** `missing`: exactly the receipts that named no current delivery (in request order, without repeats). */
  'queue.ack': { acked: number; missing: string[] }
  'queue.nack': { outcome: FailedDeliveryOutcome }
  'queue.visibility': { visibleAtMs: number }
  'queue.dead-lettered': { removed: boolean }
  'kv.put': { version: number }
  'kv.delete': { version: number }
  /** `more`: the transition budget ran out with work still due (propose another tick). */
  tick: { transitions: number; more: boolean }
}

export type ApplyResult<T> = { ok: true; value: T } | { ok: false; error: MachineError }

export interface ApplyOutput<T> {
  result: ApplyResult<T>
  /** For the leader only; followers drop them. */
  effects: ShardEffect[]
}

export type ResultOf<K extends ShardCommandType> = CommandResults[K]

/** The Raft entry's coordinates, stamped by the leader. */
export interface ApplyMeta {
  /** Raft log index of the entry (strictly increasing across applies). */
  index: number
  /** The leader's clock when it proposed the entry, in ms since the epoch. */
  nowMs: number
  /** The shard the entry belongs to; must be the machine's. */
  shard: number
}

export interface QueueStats {
  visible: number
  inFlight: number
  delayed: number
  /** Waiting for the dead-letter move to complete (invisible, still counted in `total`). */
  deadLettering: number
  total: number
  sentTotal: number
  receivedTotal: number
  ackedTotal: number
  /** Moves into the dead-letter queue that completed. */
  deadLetteredTotal: number
  /** Messages dropped after `maxReceives` with no dead-letter queue configured. */
  droppedTotal: number
  /** Messages dropped by retention. */
  expiredTotal: number
}

export interface KvEntryView {
  value: Uint8Array
  version: number
  /** 0 when the key does not expire. */
  expiresAtMs: number
}
