// What travels on the simulated network: Raft messages between nodes, and
// client requests and answers between clients and nodes.
import type { RejectionCode } from '../raft/errors.js'
import type { Message, NodeId } from '../raft/types.js'
import type { KvInput, KvOutput } from './history.js'

export type SimEnvelope =
  | { kind: 'raft'; message: Message }
  /** `attempt` numbers the tries of one request; a refusal names the try it refuses. */
  | { kind: 'request'; clientId: number; requestId: number; attempt: number; input: KvInput }
  | { kind: 'response'; requestId: number; output: KvOutput }
  | { kind: 'refused'; requestId: number; attempt: number; code: RejectionCode; leaderId?: NodeId }

/** Endpoint ids of clients start here so they never collide with node ids. */
export const CLIENT_ENDPOINT_BASE = 1000

export function describeEnvelope(envelope: SimEnvelope): string {
  switch (envelope.kind) {
    case 'raft': {
      const m = envelope.message
      const extra = m.entries.length > 0 ? ` ents=${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}` : ''
      return `${m.type} t${m.term} i${m.index} lt${m.logTerm} c${m.commit}${m.reject ? ` reject hint=${m.rejectHint}` : ''}${extra}${m.snapshot ? ` snap@${m.snapshot.metadata.index}+${m.snapshot.offsetBytes}` : ''}`
    }
    case 'request':
      return `request c${envelope.clientId}#${envelope.requestId}.${envelope.attempt} ${JSON.stringify(envelope.input)}`
    case 'response':
      return `response #${envelope.requestId} ${JSON.stringify(envelope.output)}`
    case 'refused':
      return `refused #${envelope.requestId}.${envelope.attempt} ${envelope.code}${envelope.leaderId ? ` leader=n${envelope.leaderId}` : ''}`
  }
}
