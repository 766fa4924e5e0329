// Turns what a request failed with into the error of its answer: the node's
// TroupeError maps one to one (its leader id becomes the leader's TCP
// address, from the node's directory); anything else is a bug, answered as
// INTERNAL without its details.
import { isTroupeError, TroupeError } from '../node/node-errors.js'
import type { NodeInfo } from '../node/troupe-node.js'
import type { ClientWireError, LeaderHint } from './client-protocol.js'

/** Retry hints. Elections settle in well under a second; overload and full queues take longer to clear. */
export const RETRY_AFTER_UNAVAILABLE_MS = 250
export const RETRY_AFTER_BUSY_MS = 1_000
/**
 * A node that is shutting down has handed its shards over before it refuses
 * anything (see `troupe start`): the client should go to another node at
 * once rather than wait.
 */
export const RETRY_AFTER_SHUTDOWN_MS = 0

/** An INVALID_ARGUMENT naming the request field at fault. */
export function invalidArgument(message: string): TroupeError {
  return new TroupeError('INVALID_ARGUMENT', message)
}

export function toWireError(error: unknown, members: () => readonly NodeInfo[]): ClientWireError {
  if (!isTroupeError(error)) return { code: 'INTERNAL', message: 'the request failed unexpectedly; its outcome is unknown' }
  const wire: ClientWireError = { code: error.code, message: error.message }
  if (error.missing !== undefined) wire.missing = error.missing
  if ((error.code === 'NOT_LEADER' || error.code === 'MOVED') && error.leaderId !== undefined && error.leaderId > 0) {
    wire.leader = leaderHint(error.leaderId, members())
  }
  switch (error.code) {
    case 'UNAVAILABLE':
      wire.retryAfterMs = RETRY_AFTER_UNAVAILABLE_MS
      break
    case 'RATE_LIMITED':
    case 'QUEUE_FULL':
      wire.retryAfterMs = RETRY_AFTER_BUSY_MS
      break
    default:
  }
  return wire
}

function leaderHint(id: number, members: readonly NodeInfo[]): LeaderHint {
  const tcp = members.find((member) => member.id === id)?.tcp
  return tcp === undefined ? { id } : { id, tcp }
}
