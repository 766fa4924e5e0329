// Acks of one queue that arrive in the same turn of the event loop go to the
// shard as one `queue.ack` command with all their receipts. Each caller gets
// the answer it would have had alone: the receipts of its own list that named
// no current delivery (the machine reports exactly those, and the others are
// acked). Two callers that ack the same receipt are put in different
// commands, in their order, so that the second one finds it gone, as it
// would one after the other. A refusal (QUEUE_NOT_FOUND, NOT_LEADER,
// UNAVAILABLE, TIMEOUT) is the same for every caller of the command.
import { ACK_RECEIPTS_MAX } from '../machines/index.js'
import { rejectEach, TurnGroups, type PendingCall } from './turn-groups.js'

type PendingAck = PendingCall<string[], string[]>

/** Proposes `queue.ack` for these receipts; resolves with those that named no current delivery. */
export type ProposeAck = (queue: string, receipts: string[]) => Promise<{ missing: string[] }>

export class AckCoalescer {
  readonly #groups = new TurnGroups<string, string[], string[]>((queue, acks) => this.#flush(queue, acks))

  constructor(private readonly propose: ProposeAck) {}

  /** Acks the receipts (1..ACK_RECEIPTS_MAX, checked by the caller); resolves with the missing ones, in the list's order. */
  ack(queue: string, receipts: string[]): Promise<string[]> {
    return this.#groups.call(queue, receipts)
  }

  #flush(queue: string, acks: PendingAck[]): void {
    if (acks.length === 1) {
      void this.#ackGroup(queue, acks)
      return
    }
    let group: PendingAck[] = []
    let receipts = new Set<string>()
    let count = 0
    for (const ack of acks) {
      const overlaps = ack.input.some((receipt) => receipts.has(receipt))
      if (group.length > 0 && (overlaps || count + ack.input.length > ACK_RECEIPTS_MAX)) {
        void this.#ackGroup(queue, group)
        group = []
        receipts = new Set()
        count = 0
      }
      group.push(ack)
      for (const receipt of ack.input) receipts.add(receipt)
      count += ack.input.length
    }
    void this.#ackGroup(queue, group)
  }

  async #ackGroup(queue: string, group: PendingAck[]): Promise<void> {
    let missing: string[]
    try {
      missing = (await this.propose(queue, group.length === 1 ? group[0]!.input : group.flatMap((ack) => ack.input))).missing
    } catch (error) {
      rejectEach(group, error)
      return
    }
    if (missing.length === 0) {
      for (const ack of group) ack.resolve([])
      return
    }
    const missed = new Set(missing)
    for (const ack of group) ack.resolve([...new Set(ack.input)].filter((receipt) => missed.has(receipt)))
  }
}
