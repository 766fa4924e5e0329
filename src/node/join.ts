// Joining a running cluster (`--join ADDR`): the new node dials a member's
// peer address, proves the cluster secret in the usual peer handshake, and
// asks to join:
//
//   joiner → member   {t: 'join', id, peer}
//   member → joiner   {t: 'joined', shards, members: [[id, peer], ...]}
//                  or {t: 'join-refused', code, message}
//
// The member adds the node to shard 0 as a learner, with its peer address in
// the membership change, and answers once that change is applied: from then
// on every member learns the address from shard 0's log (see
// ShardReplica.join), and each shard's leader adds the node to its shard
// (see ShardReplica.reconcileMembers). The joiner closes the connection once
// answered; the member closes it after joinSessionMs whatever happens.
import type { Logger } from 'pino'
import { NetError, dialPeer, isNetError, refusalCode, type PeerConnection, type ReadMode } from '../net/index.js'
import { TroupeError, type TroupeErrorCode } from './node-errors.js'

export interface JoinRequest {
  t: 'join'
  id: number
  peer: string
}

export type JoinAnswer =
  | { t: 'joined'; shards: number; members: [number, string][] }
  | { t: 'join-refused'; code: TroupeErrorCode; message: string }

/** How long a member keeps a joining node's connection open. */
export const joinSessionMs = 60_000

export function isJoinRequest(message: unknown): message is JoinRequest {
  const m = message as Partial<JoinRequest> | null
  return typeof m === 'object' && m !== null && m.t === 'join' && Number.isSafeInteger(m.id) && typeof m.peer === 'string' && m.peer.length > 0
}

export interface RequestJoinOptions {
  localId: number
  /** The address this node serves peers on, as the members should dial it. */
  peer: string
  secret: string | undefined
  /** How this node serves linearizable reads: a cluster that differs refuses the join. */
  reads: ReadMode
  timeoutMs: number
  /** Gives the join up: it rejects with the signal's reason. */
  signal?: AbortSignal | undefined
  logger: Logger
}

/** Asks the member at `address` to let this node join; resolves with the cluster's shape or throws a TroupeError. */
export async function requestJoin(address: string, options: RequestJoinOptions): Promise<{ shards: number; members: Map<number, string> }> {
  const signal = options.signal
  let connection: PeerConnection
  try {
    connection = await dialPeer(address, { localId: options.localId, secret: options.secret, reads: options.reads, logger: options.logger, ...(signal ? { signal } : {}) })
  } catch (error) {
    signal?.throwIfAborted()
    const code = isNetError(error) ? refusalCode(error) : undefined
    if (code === 'REMOVED') {
      throw new TroupeError('CONFLICT', `the cluster refused node ${options.localId}: node id ${options.localId} was removed from this cluster: a new node joins with a new id`)
    }
    if (code === 'READS_MISMATCH') throw new TroupeError('INVALID_ARGUMENT', `cannot join the cluster through ${address}: ${(error as Error).message}`)
    const reason = code === 'KNOCK' ? `node id ${options.localId} is already a member of that cluster` : (error as Error).message
    throw new TroupeError('UNAVAILABLE', `cannot join the cluster through ${address}: ${reason}`)
  }
  try {
    const answer = await new Promise<JoinAnswer>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(() => reject(new TroupeError('TIMEOUT', `the member at ${address} did not answer the join within ${options.timeoutMs} ms`))),
        options.timeoutMs,
      )
      const onAbort = (): void => settle(() => reject(signal!.reason))
      const settle = (end: () => void): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        end()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      connection.start({
        onMessages: (_remoteId, messages) => {
          const answer = messages.find((m) => (m as JoinAnswer).t === 'joined' || (m as JoinAnswer).t === 'join-refused') as JoinAnswer | undefined
          if (answer !== undefined) settle(() => resolve(answer))
        },
        onClose: (error) => settle(() => reject(new TroupeError('UNAVAILABLE', `the member at ${address} closed the connection before answering the join: ${error.message}`))),
      })
      connection.send({ t: 'join', id: options.localId, peer: options.peer } satisfies JoinRequest)
    })
    if (answer.t === 'join-refused') throw new TroupeError(answer.code, `the cluster refused node ${options.localId}: ${answer.message}`)
    return { shards: answer.shards, members: new Map(answer.members) }
  } finally {
    connection.close()
  }
}

/**
 * Serves one connection from a node that is not a peer: answers its join
 * request with `handle`. Anything else closes the connection at once: it is
 * a member that learned of this node before this node learned of it (this
 * node is joining, and the member dialed it before the join's answer came);
 * the member's link dials again, and by then finds a peer.
 */
export function serveJoin(connection: PeerConnection, handle: (request: JoinRequest) => Promise<JoinAnswer>, log: Logger): void {
  const timer = setTimeout(() => connection.close(), joinSessionMs)
  let asked = false
  connection.start({
    onMessages: (remoteId, messages) => {
      for (const message of messages) {
        if (asked) return
        if (!isJoinRequest(message) || message.id !== remoteId) {
          connection.close(new NetError('UNEXPECTED_PEER', `node ${remoteId} is not a peer of this node (yet), and did not ask to join`))
          return
        }
        asked = true
        void answerJoin(message, handle, log).then((answer) => connection.send(answer))
      }
    },
    onClose: () => clearTimeout(timer),
  })
}

/** Runs `handle`, turning a failure into a refusal. */
export async function answerJoin(request: JoinRequest, handle: (request: JoinRequest) => Promise<JoinAnswer>, log: Logger): Promise<JoinAnswer> {
  try {
    return await handle(request)
  } catch (error) {
    const code: TroupeErrorCode = error instanceof TroupeError ? error.code : 'UNAVAILABLE'
    log.warn({ node: request.id, peer: request.peer, err: error }, 'a node could not join')
    return { t: 'join-refused', code, message: (error as Error).message }
  }
}
