// Receives of one queue that do not wait (waitMs 0) and arrive in the same
// turn of the event loop go to the shard as one `queue.receive` asking for
// the sum of their `max`. The machine hands out the first messages by
// priority and send order, so the answer is split in the callers' order:
// each caller gets what it would have got receiving right after the one
// before it (possibly fewer, or none, when the queue runs short). Only
// receives with the same visibility timeout are grouped; a receive with
// another one goes in its own command (concurrent receives have no order
// among themselves, so either may come first). A refusal is the same for
// every caller of the command. Long polls (waitMs > 0) are not grouped.
//
// A receive also stops before its bodies pass RECEIVE_BYTES_MAX (10 MiB).
// Alone, a caller with large messages waiting would get at least one; in a
// group the first callers may take the whole 10 MiB. So when the machine
// says an answer stopped there (`full`), the callers that got nothing
// receive again, as a group of their own (each round serves at least its
// first caller, so this ends).
import { RECEIVE_MESSAGES_MAX, type CommandResults, type ReceivedMessage } from '../machines/index.js'
import { rejectEach, TurnGroups, type PendingCall } from './turn-groups.js'

interface ReceiveInput {
  queue: string
  max: number
  visibilityTimeoutMs: number | undefined
}

type PendingReceive = PendingCall<ReceiveInput, ReceivedMessage[]>

/** Proposes one `queue.receive` (waitMs 0); resolves with the messages it delivered. */
export type ProposeReceive = (queue: string, max: number, visibilityTimeoutMs: number | undefined) => Promise<CommandResults['queue.receive']>

export class ReceiveCoalescer {
  readonly #groups = new TurnGroups<string, ReceiveInput, ReceivedMessage[]>((_key, receives) => this.#flush(receives))

  constructor(private readonly propose: ProposeReceive) {}

  /** Receives up to `max` (1..RECEIVE_MESSAGES_MAX, checked by the caller) without waiting. */
  receive(queue: string, max: number, visibilityTimeoutMs: number | undefined): Promise<ReceivedMessage[]> {
    // A queue name has no spaces (QUEUE_NAME_PATTERN), so the key is unambiguous.
    const key = visibilityTimeoutMs === undefined ? queue : `${queue} ${visibilityTimeoutMs}`
    return this.#groups.call(key, { queue, max, visibilityTimeoutMs })
  }

  #flush(receives: PendingReceive[]): void {
    let group: PendingReceive[] = []
    let total = 0
    for (const receive of receives) {
      if (group.length > 0 && total + receive.input.max > RECEIVE_MESSAGES_MAX) {
        void this.#receiveGroup(group, total)
        group = []
        total = 0
      }
      group.push(receive)
      total += receive.input.max
    }
    void this.#receiveGroup(group, total)
  }

  async #receiveGroup(group: PendingReceive[], total: number): Promise<void> {
    const { queue, visibilityTimeoutMs } = group[0]!.input
    let result: CommandResults['queue.receive']
    try {
      result = await this.propose(queue, total, visibilityTimeoutMs)
    } catch (error) {
      rejectEach(group, error)
      return
    }
    const { messages } = result
    if (group.length === 1) {
      group[0]!.resolve(messages)
      return
    }
    const unserved: PendingReceive[] = []
    let taken = 0
    let unservedTotal = 0
    for (const receive of group) {
      const share = messages.slice(taken, taken + receive.input.max)
      taken += receive.input.max
      if (share.length === 0 && result.full) {
        unserved.push(receive)
        unservedTotal += receive.input.max
      } else {
        receive.resolve(share)
      }
    }
    if (unserved.length > 0) await this.#receiveGroup(unserved, unservedTotal)
  }
}
