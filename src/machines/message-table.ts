// The messages of one queue by key, in key order.
//
// A key is `logIndex * MESSAGE_SLOTS_PER_ENTRY + position`, so the messages of
// one send share an entry base (the key of position 0). The table keeps one Map
// entry per send rather than one per message: a lone message is stored as it
// is, the messages of a batch as one group indexed by position. A batch of 100
// then costs one Map insertion instead of 100 on every replica, and the Map
// stays a hundred times smaller (it had been the costliest single step of
// applying a batched send, and of the garbage collector's work on queues).
//
// Iteration is in key order because entry bases are inserted in log order
// (sends are applied in log order, snapshots restore in key order) and a
// group is walked by position.
import { MESSAGE_SLOTS_PER_ENTRY } from './limits.js'
import type { MessageKey } from './message-id.js'
import type { StoredMessage } from './stored-message.js'

/** The messages of one send that has more than one, by position; `live` counts those present. */
class SendGroup {
  live = 0
  readonly slots: (StoredMessage | undefined)[] = []
}

export class MessageTable {
  private readonly bySend = new Map<MessageKey, StoredMessage | SendGroup>()
  private count = 0

  get size(): number {
    return this.count
  }

  get(key: MessageKey): StoredMessage | undefined {
    const position = key % MESSAGE_SLOTS_PER_ENTRY
    const held = this.bySend.get(key - position)
    if (held === undefined) return undefined
    if (held instanceof SendGroup) return held.slots[position]
    return held.key === key ? held : undefined
  }

  has(key: MessageKey): boolean {
    return this.get(key) !== undefined
  }

  /** Adds a message whose key is not in the table (the caller checks). */
  add(message: StoredMessage): void {
    const position = message.key % MESSAGE_SLOTS_PER_ENTRY
    const base = message.key - position
    const held = this.bySend.get(base)
    if (held === undefined) {
      this.bySend.set(base, message)
    } else if (held instanceof SendGroup) {
      held.slots[position] = message
      held.live++
    } else {
      const group = new SendGroup()
      group.slots[held.key - base] = held
      group.slots[position] = message
      group.live = 2
      this.bySend.set(base, group)
    }
    this.count++
  }

  /** Removes the message with this key; false when there is none. */
  delete(key: MessageKey): boolean {
    const position = key % MESSAGE_SLOTS_PER_ENTRY
    const base = key - position
    const held = this.bySend.get(base)
    if (held === undefined) return false
    if (held instanceof SendGroup) {
      if (held.slots[position] === undefined) return false
      held.slots[position] = undefined
      if (--held.live === 0) this.bySend.delete(base)
    } else {
      if (held.key !== key) return false
      this.bySend.delete(base)
    }
    this.count--
    return true
  }

  clear(): void {
    this.bySend.clear()
    this.count = 0
  }

  /** Every message, in key order. */
  *values(): IterableIterator<StoredMessage> {
    for (const held of this.bySend.values()) {
      if (!(held instanceof SendGroup)) {
        yield held
        continue
      }
      for (const message of held.slots) if (message !== undefined) yield message
    }
  }
}
