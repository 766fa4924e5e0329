/** A snapshot body whose every byte depends on its index (256-768 KiB, compressible). */
export function snapshotBody(index: number): Buffer {
  const size = 256 * 1024 + ((index * 7919) % (512 * 1024))
  const body = Buffer.alloc(size)
  for (let offset = 0; offset + 8 <= size; offset += 8) {
    body.writeUInt32LE(index, offset)
    body.writeUInt32LE(offset, offset + 4)
  }
  return body
}
