// Copies many small byte arrays into shared chunks, so that restoring a
// snapshot of a million small messages allocates a thousand ArrayBuffers
// instead of a million (each costs ~100 bytes of V8 bookkeeping beyond a
// view). A body keeps its chunk alive, so one long-lived message pins at most
// SLAB_CHUNK_BYTES, and all restored bodies together at most the bodies of the
// snapshot. Bodies larger than SLAB_BODY_BYTES_MAX get their own copy.
// Only restore uses it: on the send path, chunks pinned by a few stuck
// messages could add up without bound over time.
export const SLAB_CHUNK_BYTES = 64 * 1024
export const SLAB_BODY_BYTES_MAX = 4 * 1024

export class BodySlab {
  private chunk = new Uint8Array(0)
  private used = 0

  copy(source: Uint8Array): Uint8Array {
    const length = source.byteLength
    if (length > SLAB_BODY_BYTES_MAX) return new Uint8Array(source)
    if (this.used + length > this.chunk.byteLength) {
      this.chunk = new Uint8Array(SLAB_CHUNK_BYTES)
      this.used = 0
    }
    const body = this.chunk.subarray(this.used, this.used + length)
    body.set(source)
    this.used += length
    return body
  }
}
