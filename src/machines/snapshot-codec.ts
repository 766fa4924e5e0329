// The snapshot of a shard machine: msgpack of arrays only, in a canonical
// order (queues by name, messages by key, KV entries by key, dedup ids in
// FIFO order), so that equal states encode to equal bytes whatever history
// led to them. The heaps and gauges are not stored: restore rebuilds them.
//
//   [SNAPSHOT_FORMAT_VERSION, shard, appliedIndex, clockMs, queues[], kv]
//   queue   = [name, configTuple, totalsTuple, messagesFlat, dedupFlat, deadLetterTargetsFlat]
//   message = key, priority, state, dueMs, receiveCount, receiveLogIndex, sentAtMs, body   (8 fields, flat)
//   kv      = key, value, version, expiresAtMs                                            (4 fields, flat)
import { Packr, Unpackr } from 'msgpackr'
import { DedupWindow } from './dedup-window.js'
import { MachineInvariantError, invariant } from './errors.js'
import { KvEntry } from './kv-store.js'
import { queueConfigFromTuple, queueConfigToTuple } from './queue-config.js'
import { QueueState, type QueueTotals } from './queue-state.js'
import { MESSAGE_STATE_COUNT, StoredMessage, type MessageState } from './stored-message.js'

export const SNAPSHOT_FORMAT_VERSION = 1
const MESSAGE_FIELDS = 8
const KV_FIELDS = 4

const packr = new Packr({ useRecords: false })
// Copies binary values: restored bodies must not pin the whole snapshot buffer.
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true })

export interface ShardSnapshotState {
  shard: number
  appliedIndex: number
  clockMs: number
  queues: QueueState[]
  kvEntries: KvEntry[]
}

function totalsToTuple(t: QueueTotals): number[] {
  return [t.sentTotal, t.receivedTotal, t.ackedTotal, t.deadLetteredTotal, t.droppedTotal, t.expiredTotal]
}

function totalsFromTuple(tuple: readonly number[]): QueueTotals {
  const [sentTotal, receivedTotal, ackedTotal, deadLetteredTotal, droppedTotal, expiredTotal] = tuple as [number, number, number, number, number, number]
  return { sentTotal, receivedTotal, ackedTotal, deadLetteredTotal, droppedTotal, expiredTotal }
}

function encodeQueue(queue: QueueState): unknown[] {
  const keys = [...queue.messages.keys()].sort((a, b) => a - b)
  const messages: unknown[] = new Array(keys.length * MESSAGE_FIELDS)
  let at = 0
  for (const key of keys) {
    const m = queue.messages.get(key)!
    messages[at++] = m.key
    messages[at++] = m.priority
    messages[at++] = m.state
    messages[at++] = m.dueMs
    messages[at++] = m.receiveCount
    messages[at++] = m.receiveLogIndex
    messages[at++] = m.sentAtMs
    messages[at++] = m.body
  }
  const targets: unknown[] = []
  for (const key of [...queue.deadLetterTargets.keys()].sort((a, b) => a - b)) targets.push(key, queue.deadLetterTargets.get(key)!)
  return [queue.name, queueConfigToTuple(queue.config), totalsToTuple(queue.totals), messages, queue.dedup.toFlat(), targets]
}

export function encodeShardSnapshot(state: ShardSnapshotState): Uint8Array {
  const queues = [...state.queues].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(encodeQueue)
  const entries = [...state.kvEntries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const kv: unknown[] = []
  for (const e of entries) kv.push(e.key, e.value, e.version, e.expiresAtMs)
  return packr.pack([SNAPSHOT_FORMAT_VERSION, state.shard, state.appliedIndex, state.clockMs, queues, kv])
}

function decodeQueue(raw: unknown): QueueState {
  invariant(Array.isArray(raw) && raw.length === 6, 'snapshot: a queue must be a 6-tuple')
  const [name, configTuple, totalsTuple, messages, dedupFlat, targetsFlat] = raw as [string, unknown[], number[], unknown[], unknown[], unknown[]]
  invariant(messages.length % MESSAGE_FIELDS === 0 && targetsFlat.length % 2 === 0, 'snapshot: malformed queue arrays')
  const queue = new QueueState(name, queueConfigFromTuple(configTuple), totalsFromTuple(totalsTuple), DedupWindow.fromFlat(dedupFlat))
  const targets = new Map<number, string>()
  for (let at = 0; at < targetsFlat.length; at += 2) targets.set(targetsFlat[at] as number, targetsFlat[at + 1] as string)
  for (let at = 0; at < messages.length; at += MESSAGE_FIELDS) {
    const state = messages[at + 2] as number
    invariant(Number.isInteger(state) && state >= 0 && state < MESSAGE_STATE_COUNT, 'snapshot: bad message state')
    const key = messages[at] as number
    const message = new StoredMessage(
      key,
      messages[at + 1] as number,
      messages[at + 7] as Uint8Array,
      messages[at + 6] as number,
      state as MessageState,
      messages[at + 3] as number,
      messages[at + 4] as number,
      messages[at + 5] as number,
    )
    queue.restoreMessage(message, targets.get(key))
  }
  return queue
}

/** Decodes snapshot bytes into fresh machine parts; throws on bytes that are not such a snapshot. */
export function decodeShardSnapshot(bytes: Uint8Array): ShardSnapshotState {
  let raw: unknown
  try {
    raw = unpackr.unpack(bytes)
  } catch (error) {
    throw new MachineInvariantError(`snapshot: not msgpack (${(error as Error).message})`)
  }
  invariant(Array.isArray(raw) && raw.length === 6, 'snapshot: the root must be a 6-tuple')
  const [version, shard, appliedIndex, clockMs, queues, kv] = raw as [number, number, number, number, unknown[], unknown[]]
  invariant(version === SNAPSHOT_FORMAT_VERSION, `snapshot: format ${version} is not ${SNAPSHOT_FORMAT_VERSION}`)
  invariant(Array.isArray(queues) && Array.isArray(kv) && kv.length % KV_FIELDS === 0, 'snapshot: malformed root arrays')
  const kvEntries: KvEntry[] = []
  for (let at = 0; at < kv.length; at += KV_FIELDS) {
    kvEntries.push(new KvEntry(kv[at] as string, kv[at + 1] as Uint8Array, kv[at + 2] as number, kv[at + 3] as number))
  }
  return { shard, appliedIndex, clockMs, queues: queues.map(decodeQueue), kvEntries }
}
