// Single sends to one queue that arrive in the same turn of the event loop
// go to the shard as one `queue.send` command: one Raft entry, one WAL
// record, one apply, instead of one of each per message. Each caller still
// gets its own answer, and the answers are the ones it would have had alone:
//
//  - ids: the command gives one per message, in the group's order (which is
//    the callers' order, so send order is kept).
//  - dedupIds: a later message of the group that repeats an earlier one's
//    dedupId gets the earlier id, as it would right after the earlier send.
//  - QUEUE_FULL: a command is all or nothing, but sends alone are not (the
//    first ones fit, the rest do not). A refused group changed nothing, so
//    its messages are sent again one by one, in order.
//  - any other refusal (QUEUE_NOT_FOUND, NOT_LEADER, UNAVAILABLE, TIMEOUT)
//    is the same for every message of the group and goes to each caller.
import type { SendMessage } from '../machines/index.js'
import { isTroupeError } from './node-errors.js'
import { rejectEach, TurnGroups, type PendingCall } from './turn-groups.js'

/** A group holds at most this many messages (a batch may hold 1000)... */
export const COALESCED_MESSAGES_MAX = 100
/** ...and at most this many body bytes, unless its single message is larger. */
export const COALESCED_BODY_BYTES_MAX = 1024 * 1024

type PendingSend = PendingCall<SendMessage, string>

/** Proposes `queue.send` for these messages; resolves with one id per message. */
export type ProposeSend = (queue: string, messages: SendMessage[]) => Promise<{ ids: string[] }>

export class SendCoalescer {
  readonly #groups = new TurnGroups<string, SendMessage, string>((queue, sends) => this.#flush(queue, sends))

  constructor(private readonly propose: ProposeSend) {}

  /** Sends one message; resolves with its id once it is committed and applied. */
  send(queue: string, message: SendMessage): Promise<string> {
    return this.#groups.call(queue, message)
  }

  #flush(queue: string, sends: PendingSend[]): void {
    for (let start = 0; start < sends.length; ) {
      let end = start + 1
      let bytes = sends[start]!.input.body.byteLength
      while (end < sends.length && end - start < COALESCED_MESSAGES_MAX) {
        const size = sends[end]!.input.body.byteLength
        if (bytes + size > COALESCED_BODY_BYTES_MAX) break
        bytes += size
        end++
      }
      void this.#sendGroup(queue, start === 0 && end === sends.length ? sends : sends.slice(start, end))
      start = end
    }
  }

  async #sendGroup(queue: string, group: PendingSend[]): Promise<void> {
    let ids: string[]
    try {
      ids = (await this.propose(queue, group.map((send) => send.input))).ids
    } catch (error) {
      if (group.length > 1 && isTroupeError(error, 'QUEUE_FULL')) {
        for (const send of group) this.propose(queue, [send.input]).then(({ ids: [id] }) => send.resolve(id!), send.reject)
      } else {
        rejectEach(group, error)
      }
      return
    }
    for (let i = 0; i < group.length; i++) group[i]!.resolve(ids[i]!)
  }
}
