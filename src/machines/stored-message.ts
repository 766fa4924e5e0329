// One message as a queue holds it, and the orders the queue keeps it in.
import { NOT_IN_HEAP, type HeapPosition } from './indexed-heap.js'
import type { MessageKey } from './message-id.js'

export const MessageState = {
  visible: 0,
  inFlight: 1,
  delayed: 2,
  /** Waiting for its copy to land in the dead-letter queue (see effects.ts). */
  deadLettering: 3,
} as const
export type MessageState = (typeof MessageState)[keyof typeof MessageState]
export const MESSAGE_STATE_COUNT = 4

export class StoredMessage {
  /** Position in the visible heap or the timer heap (a message is in at most one). */
  scheduledPos = NOT_IN_HEAP
  retentionPos = NOT_IN_HEAP
  // The body as where its bytes are, not as a Uint8Array: a view is an object
  // of its own (about 90 bytes here) on top of the bytes, which for a queue
  // of short messages was a fifth of its memory and of the collector's work.
  // The bytes are the log entry's (or a snapshot slab's), shared by the
  // messages of one send and never modified.
  readonly bodyBuffer: ArrayBufferLike
  readonly bodyOffset: number
  readonly bodyLength: number

  constructor(
    readonly key: MessageKey,
    readonly priority: number,
    body: Uint8Array,
    readonly sentAtMs: number,
    public state: MessageState,
    /** delayed: when it becomes visible; inFlight: its visibility deadline; otherwise 0. */
    public dueMs: number,
    public receiveCount: number,
    /** Log index of the latest receive (0 before the first); part of the receipt. */
    public receiveLogIndex: number,
  ) {
    this.bodyBuffer = body.buffer
    this.bodyOffset = body.byteOffset
    this.bodyLength = body.byteLength
  }

  /** A new view of the body's bytes (do not modify them). */
  get body(): Uint8Array {
    return new Uint8Array(this.bodyBuffer, this.bodyOffset, this.bodyLength)
  }
}

export const scheduledPosition: HeapPosition<StoredMessage> = {
  get: (m) => m.scheduledPos,
  set: (m, p) => {
    m.scheduledPos = p
  },
}

export const retentionPosition: HeapPosition<StoredMessage> = {
  get: (m) => m.retentionPos,
  set: (m, p) => {
    m.retentionPos = p
  },
}

/** Delivery order: higher priority first, then send order (the key grows with the log index). */
export function deliveredBefore(a: StoredMessage, b: StoredMessage): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.key < b.key
}

export function dueBefore(a: StoredMessage, b: StoredMessage): boolean {
  return a.dueMs !== b.dueMs ? a.dueMs < b.dueMs : a.key < b.key
}

/** Send order, which is also send-time order: a message's send time never decreases with its key. */
export function sentBefore(a: StoredMessage, b: StoredMessage): boolean {
  return a.key < b.key
}
