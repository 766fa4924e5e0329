// Acks of one queue that arrive in the same turn of the event loop go to the
// shard as one `queue.ack` command with all their receipts. Each caller gets
// the answer it would have had alone: the receipts of its own list that named
// no current delivery (the machine reports exactly those, and the others are
// acked). Two callers that ack the same receipt are put in different
// commands, in their order, so that the second one finds it gone, as it
// would one after the other. A refusal (QUEUE_NOT_FOUND, NOT_LEADER,
// UNAVAILABLE, TIMEOUT) is the same for every caller of the command.
import { ACK_RECEIPTS_MAX } from '../machines/index.js'
import { copyError, TroupeError } from './node-errors.js'
import { TurnGroups } from './turn-groups.js'

interface PendingAck {
  receipts: readonly string[]
  resolve(missing: string[]): void
  reject(error: unknown): void
}

/** Proposes `queue.ack` for these receipts; resolves with those that named no current delivery. */
export type ProposeAck = (queue: string, receipts: string[]) => Promise<{ missing: string[] }>

export class AckCoalescer {
  readonly #groups = new TurnGroups<string, PendingAck>((queue, acks) => this.#flush(queue, acks))
  readonly #propose: ProposeAck

  constructor(propose: ProposeAck) {
    this.#propose = propose
  }

  /** Acks the receipts (1..ACK_RECEIPTS_MAX, checked by the caller); resolves with the missing ones, in the list's order. */
  ack(queue: string, receipts: readonly string[]): Promise<string[]> {
    return new Promise((resolve, reject) => this.#groups.add(queue, { receipts, resolve, reject }))
  }

  #flush(queue: string, acks: PendingAck[]): void {
    let group: PendingAck[] = []
    let receipts = new Set<string>()
    let count = 0
    for (const ack of acks) {
      const overlaps = ack.receipts.some((receipt) => receipts.has(receipt))
      if (group.length > 0 && (overlaps || count + ack.receipts.length > ACK_RECEIPTS_MAX)) {
        void this.#ackGroup(queue, group)
        group = []
        receipts = new Set()
        count = 0
      }
      group.push(ack)
      for (const receipt of ack.receipts) receipts.add(receipt)
      count += ack.receipts.length
    }
    void this.#ackGroup(queue, group)
  }

  async #ackGroup(queue: string, group: PendingAck[]): Promise<void> {
    let missing: Set<string>
    try {
      missing = new Set((await this.#propose(queue, group.flatMap((ack) => ack.receipts))).missing)
    } catch (error) {
      for (const ack of group) ack.reject(error instanceof TroupeError ? copyError(error) : error)
      return
    }
    for (const ack of group) ack.resolve([...new Set(ack.receipts)].filter((receipt) => missing.has(receipt)))
  }
}
