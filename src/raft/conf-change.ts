// Membership changes, one server at a time. A ConfChange travels in the data
// of a `conf` entry; the application decodes it when the entry is committed
// and hands it to `RawNode.applyConfChange`.
import { RaftError } from './errors.js'
import type { NodeId } from './types.js'

/**
 * - addVoter: a new voter, or promotes a learner.
 * - removeVoter: removes a voter or a learner.
 * - addLearner: a new non-voting member (receives the log, never votes).
 */
export type ConfChangeType = 'addVoter' | 'removeVoter' | 'addLearner'

export interface ConfChange {
  type: ConfChangeType
  nodeId: NodeId
  /** Opaque to Raft; e.g. the new node's address. At most MAX_CONF_CONTEXT_BYTES. */
  context?: Uint8Array
}

export const MAX_CONF_CONTEXT_BYTES = 64 * 1024

const FORMAT_VERSION = 1
const HEADER_BYTES = 6
const TYPE_CODES: Record<ConfChangeType, number> = { addVoter: 1, removeVoter: 2, addLearner: 3 }
const TYPES_BY_CODE: ReadonlyArray<ConfChangeType | undefined> = [undefined, 'addVoter', 'removeVoter', 'addLearner']

export function isValidNodeId(id: number): boolean {
  return Number.isInteger(id) && id > 0 && id <= 0xffff_ffff
}

/** Layout: u8 version, u8 type, u32 big-endian node id, context bytes. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!isValidNodeId(cc.nodeId)) throw new RaftError('INVALID_CONFIG', `conf change: invalid node id ${cc.nodeId}`)
  const context = cc.context ?? new Uint8Array(0)
  if (context.byteLength > MAX_CONF_CONTEXT_BYTES) {
    throw new RaftError('INVALID_CONFIG', `conf change: context of ${context.byteLength} bytes exceeds ${MAX_CONF_CONTEXT_BYTES}`)
  }
  const out = new Uint8Array(HEADER_BYTES + context.byteLength)
  const view = new DataView(out.buffer)
  view.setUint8(0, FORMAT_VERSION)
  view.setUint8(1, TYPE_CODES[cc.type])
  view.setUint32(2, cc.nodeId)
  out.set(context, HEADER_BYTES)
  return out
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < HEADER_BYTES || data[0] !== FORMAT_VERSION) {
    throw new RaftError('INVARIANT', 'conf change: not an encoded ConfChange (bad length or version)')
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const type = TYPES_BY_CODE[view.getUint8(1)]
  if (type === undefined) throw new RaftError('INVARIANT', `conf change: unknown type code ${view.getUint8(1)}`)
  const nodeId = view.getUint32(2)
  const context = data.subarray(HEADER_BYTES)
  return context.byteLength === 0 ? { type, nodeId } : { type, nodeId, context: context.slice() }
}
