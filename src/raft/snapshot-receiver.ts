// Reassembles a snapshot sent in chunks (one transfer at a time). A chunk
// belongs to the transfer in progress only if it comes from the same leader,
// in the same term, for the same snapshot, at exactly the next offset.
import type { NodeId, Snapshot, SnapshotChunk } from './types.js'

export type ChunkOutcome =
  | { kind: 'progress'; receivedBytes: number } // acknowledge; more chunks to come
  | { kind: 'restart' } // no transfer matches this chunk: the leader must start again
  | { kind: 'complete'; snapshot: Snapshot }
  | { kind: 'invalid' } // oversized or malformed: dropped

interface Transfer {
  from: NodeId
  leaderTerm: number
  chunkMetadata: SnapshotChunk['metadata']
  totalBytes: number
  buffer: Uint8Array
  receivedBytes: number
}

export class SnapshotReceiver {
  private transfer: Transfer | undefined = undefined

  constructor(private readonly maxSnapshotBytes: number) {}

  reset(): void {
    this.transfer = undefined
  }

  receive(from: NodeId, leaderTerm: number, chunk: SnapshotChunk): ChunkOutcome {
    if (chunk.totalBytes > this.maxSnapshotBytes || chunk.offsetBytes < 0 || chunk.offsetBytes + chunk.data.byteLength > chunk.totalBytes) {
      return { kind: 'invalid' }
    }
    const { metadata } = chunk
    if (chunk.offsetBytes === 0) {
      // The first chunk (re)starts a transfer, replacing any other.
      this.transfer = {
        from,
        leaderTerm,
        chunkMetadata: metadata,
        totalBytes: chunk.totalBytes,
        buffer: new Uint8Array(chunk.totalBytes),
        receivedBytes: 0,
      }
    }
    const t = this.transfer
    if (
      t === undefined ||
      t.from !== from ||
      t.leaderTerm !== leaderTerm ||
      t.chunkMetadata.index !== metadata.index ||
      t.chunkMetadata.term !== metadata.term ||
      t.totalBytes !== chunk.totalBytes
    ) {
      return { kind: 'restart' }
    }
    // A duplicate or out-of-order chunk: tell the leader where we are.
    if (chunk.offsetBytes !== t.receivedBytes) return { kind: 'progress', receivedBytes: t.receivedBytes }
    t.buffer.set(chunk.data, chunk.offsetBytes)
    t.receivedBytes += chunk.data.byteLength
    if (t.receivedBytes < t.totalBytes) return { kind: 'progress', receivedBytes: t.receivedBytes }
    this.transfer = undefined
    return { kind: 'complete', snapshot: { metadata, data: t.buffer } }
  }
}
