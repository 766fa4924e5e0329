// Piscina worker for snapshot CPU work (msgpack encoding, compression, CRC32C), so
// large snapshots do not stall the thread that hosts shard actors. Loaded as the
// compiled `snapshot-worker.js`.
import { pack } from 'msgpackr'
import { move } from 'piscina'
import { openSnapshotBody, readSnapshotHeader, sealSnapshot, SnapshotFlag, type SnapshotMeta } from './snapshot-format.js'

export type SnapshotTask =
  | { op: 'seal'; meta: SnapshotMeta; raw: Uint8Array; flags: number; compressionLevel: number }
  | { op: 'sealValue'; meta: SnapshotMeta; value: unknown; flags: number; compressionLevel: number }
  | { op: 'open'; image: Uint8Array }

export function runSnapshotTask(task: SnapshotTask): Uint8Array {
  switch (task.op) {
    case 'seal':
      return sealSnapshot(task.meta, task.raw, task.flags, task.compressionLevel)
    case 'sealValue':
      return sealSnapshot(task.meta, pack(task.value), task.flags | SnapshotFlag.msgpackValue, task.compressionLevel)
    case 'open': {
      const image = Buffer.from(task.image.buffer, task.image.byteOffset, task.image.byteLength)
      return openSnapshotBody(image, readSnapshotHeader(image))
    }
  }
}

/** The pool entry point: transfers the result's memory back when it owns all of it. */
export default function snapshotWorker(task: SnapshotTask): unknown {
  const result = runSnapshotTask(task)
  const ownsBuffer = result.byteOffset === 0 && result.byteLength === result.buffer.byteLength
  return ownsBuffer && result.buffer instanceof ArrayBuffer ? move(result) : result
}
