// The snapshot of a shard machine: msgpack in a canonical order (queues by
// name, messages by key, KV entries by key, dedup ids in FIFO order), so that
// equal states encode to equal bytes whatever history led to them. The heaps
// and gauges are not stored: restore rebuilds them.
//
// Messages are stored as columns, so that a million of them encode and decode
// as a few large binary blobs rather than millions of msgpack values:
//
//   [SNAPSHOT_FORMAT_VERSION, shard, appliedIndex, clockMs, queues[], kvFlat]
//   queue   = [name, configTuple, totalsTuple, columns, bodyLengths, bodies, dedupFlat, deadLetterTargetsFlat]
//   columns = bytes of a little-endian Float64Array, MESSAGE_COLUMNS blocks of n values:
//             key, priority, state, dueMs, receiveCount, receiveLogIndex, sentAtMs
//   bodyLengths = bytes of a little-endian Uint32Array of n lengths; bodies = the bodies concatenated
//   kvFlat  = key, value, version, expiresAtMs, ... (4 fields per entry)
import { Unpackr } from 'msgpackr'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BodySlab } from './body-slab.js'
import { DedupWindow } from './dedup-window.js'
import { MachineInvariantError, invariant } from './errors.js'
import { KvEntry } from './kv-store.js'
import { queueConfigFromTuple, queueConfigToTuple } from './queue-config.js'
import { QueueState, type QueueTotals } from './queue-state.js'
import { MESSAGE_STATE_COUNT, StoredMessage, type MessageState } from './stored-message.js'
import { binHeader, concatParts, SnapshotParts } from './snapshot-parts.js'

export const SNAPSHOT_FORMAT_VERSION = 2
const MESSAGE_COLUMNS = 7
const KV_FIELDS = 4
/** Bodies are joined into the snapshot in runs of about this many bytes (one yield of the join each). */
const BODY_RUN_BYTES = 1024 * 1024

// Typed arrays are written as their bytes in the platform's order; every
// platform Node supports in practice is little-endian, and we check.
invariant(new Uint8Array(new Uint16Array([1]).buffer)[0] === 1, 'snapshots assume a little-endian platform')

// Binary values come back as views of the snapshot bytes; everything kept is copied out of them.
const unpackr = new Unpackr({ useRecords: false })

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

function bytesOf(view: Float64Array | Uint32Array): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

function encodeQueue(queue: QueueState, out: SnapshotParts): void {
  const count = queue.messages.size
  const columns = new Float64Array(count * MESSAGE_COLUMNS)
  const lengths = new Uint32Array(count)
  const bodyBuffers: ArrayBufferLike[] = new Array<ArrayBufferLike>(count)
  const bodyOffsets = new Float64Array(count)
  const targets: unknown[] = []
  for (const key of [...queue.deadLetterTargets.keys()].sort((a, b) => a - b)) targets.push(key, queue.deadLetterTargets.get(key)!)
  out.arrayHeader(8)
  out.value(queue.name)
  out.value(queueConfigToTuple(queue.config))
  out.value(totalsToTuple(queue.totals))
  // The columns and lengths are parts by reference, filled below; the bodies
  // are one binary made of the bodies themselves (a stored body is never
  // modified), behind a header written once their total is known.
  out.binHeader(columns.byteLength)
  out.push(bytesOf(columns))
  out.binHeader(lengths.byteLength)
  out.push(bytesOf(lengths))
  const bodiesHeader = out.placeholder()
  let bodyBytes = 0
  let at = 0
  let previousKey = -1
  // The map iterates in insertion order, which is key order: keys grow with the log index.
  for (const m of queue.messages.values()) {
    invariant(m.key > previousKey, 'messages must be held in key order')
    previousKey = m.key
    columns[at] = m.key
    columns[count + at] = m.priority
    columns[2 * count + at] = m.state
    columns[3 * count + at] = m.dueMs
    columns[4 * count + at] = m.receiveCount
    columns[5 * count + at] = m.receiveLogIndex
    columns[6 * count + at] = m.sentAtMs
    lengths[at] = m.bodyLength
    bodyBuffers[at] = m.bodyBuffer
    bodyOffsets[at] = m.bodyOffset
    bodyBytes += m.bodyLength
    at++
  }
  out.fill(bodiesHeader, binHeader(bodyBytes))
  // The bodies are copied when the snapshot is joined, a run of them at a
  // time, from where the messages keep them (bytes that never change).
  for (let first = 0; first < count; ) {
    let end = first
    let runBytes = 0
    while (end < count && (end === first || runBytes + lengths[end]! <= BODY_RUN_BYTES)) runBytes += lengths[end++]!
    const from = first
    const to = end
    const size = runBytes
    out.laterBytes(() => {
      const run = new Uint8Array(size)
      let position = 0
      for (let i = from; i < to; i++) {
        run.set(new Uint8Array(bodyBuffers[i]!, bodyOffsets[i]!, lengths[i]!), position)
        position += lengths[i]!
      }
      return run
    })
    first = end
  }
  out.later(queue.dedup.capture())
  out.value(targets)
}

/**
 * The snapshot as parts (see snapshot-parts.ts): one pass over the state,
 * after which the state may change without changing the snapshot.
 */
export function shardSnapshotParts(state: ShardSnapshotState): SnapshotParts {
  const out = new SnapshotParts()
  const queues = [...state.queues].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const entries = [...state.kvEntries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const kv: unknown[] = []
  for (const e of entries) kv.push(e.key, e.value, e.version, e.expiresAtMs)
  out.arrayHeader(6)
  out.value(SNAPSHOT_FORMAT_VERSION)
  out.value(state.shard)
  out.value(state.appliedIndex)
  out.value(state.clockMs)
  out.arrayHeader(queues.length)
  for (const queue of queues) encodeQueue(queue, out)
  out.value(kv)
  return out
}

export function encodeShardSnapshot(state: ShardSnapshotState): Uint8Array {
  return concatParts(shardSnapshotParts(state))
}

/** Copies `bytes` into an aligned buffer of its own and reads it as `count` values (`Buffer#slice` would not copy). */
function float64s(bytes: Uint8Array, count: number): Float64Array {
  invariant(bytes instanceof Uint8Array && bytes.byteLength === count * 8, 'snapshot: message columns have the wrong size')
  return new Float64Array(new Uint8Array(bytes).buffer)
}

function uint32s(bytes: Uint8Array): Uint32Array {
  invariant(bytes instanceof Uint8Array && bytes.byteLength % 4 === 0, 'snapshot: body lengths have the wrong size')
  return new Uint32Array(new Uint8Array(bytes).buffer)
}

/** Messages restored between two pauses of a decode in slices. */
const DECODE_SLICE_MESSAGES = 20_000

/** Decodes one queue, pausing (a bare `yield`) after every DECODE_SLICE_MESSAGES messages. */
function* decodeQueue(raw: unknown, slab: BodySlab): Generator<void, QueueState> {
  invariant(Array.isArray(raw) && raw.length === 8, 'snapshot: a queue must be an 8-tuple')
  const [name, configTuple, totalsTuple, columnBytes, lengthBytes, bodies, dedupFlat, targetsFlat] = raw as [
    string,
    unknown[],
    number[],
    Uint8Array,
    Uint8Array,
    Uint8Array,
    unknown[],
    unknown[],
  ]
  invariant(targetsFlat.length % 2 === 0, 'snapshot: malformed dead-letter targets')
  const queue = new QueueState(name, queueConfigFromTuple(configTuple), totalsFromTuple(totalsTuple), DedupWindow.fromFlat(dedupFlat))
  const targets = new Map<number, string>()
  for (let at = 0; at < targetsFlat.length; at += 2) targets.set(targetsFlat[at] as number, targetsFlat[at + 1] as string)
  const lengths = uint32s(lengthBytes)
  const count = lengths.length
  const columns = float64s(columnBytes, count * MESSAGE_COLUMNS)
  let offset = 0
  for (let at = 0; at < count; at++) {
    const state = columns[2 * count + at]!
    invariant(Number.isInteger(state) && state >= 0 && state < MESSAGE_STATE_COUNT, 'snapshot: bad message state')
    const length = lengths[at]!
    invariant(offset + length <= bodies.byteLength, 'snapshot: bodies shorter than their lengths')
    const key = columns[at]!
    const message = new StoredMessage(
      key,
      columns[count + at]!,
      slab.copy(bodies.subarray(offset, offset + length)),
      columns[6 * count + at]!,
      state as MessageState,
      columns[3 * count + at]!,
      columns[4 * count + at]!,
      columns[5 * count + at]!,
    )
    offset += length
    queue.restoreMessage(message, targets.get(key))
    if ((at + 1) % DECODE_SLICE_MESSAGES === 0) yield
  }
  invariant(offset === bodies.byteLength, 'snapshot: bodies longer than their lengths')
  return queue
}

/** Decodes snapshot bytes into fresh machine parts; throws on bytes that are not such a snapshot. */
export function decodeShardSnapshot(bytes: Uint8Array): ShardSnapshotState {
  const steps = decodeSteps(bytes)
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value
}

/**
 * As decodeShardSnapshot, yielding to the event loop every few thousand
 * messages, so that a thread installing a large snapshot keeps serving its
 * other work.
 */
export async function decodeShardSnapshotInSlices(bytes: Uint8Array): Promise<ShardSnapshotState> {
  const steps = decodeSteps(bytes)
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value
    await nextTurn()
  }
}

function* decodeSteps(bytes: Uint8Array): Generator<void, ShardSnapshotState> {
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
  const slab = new BodySlab()
  const kvEntries: KvEntry[] = []
  for (let at = 0; at < kv.length; at += KV_FIELDS) {
    kvEntries.push(new KvEntry(kv[at] as string, slab.copy(kv[at + 1] as Uint8Array), kv[at + 2] as number, kv[at + 3] as number))
  }
  const decoded: QueueState[] = []
  for (const queue of queues) decoded.push(yield* decodeQueue(queue, slab))
  return { shard, appliedIndex, clockMs, queues: decoded, kvEntries }
}
