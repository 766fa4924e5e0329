// Where a queue or a key lives: a fixed number of shards per cluster, a queue
// wholly in one shard by hash of its name, a key by hash of itself. The SDK
// uses the same functions to route straight to a shard's leader.

/** FNV-1a, 32 bits, over the UTF-8 bytes: stable across processes and versions. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5
  const bytes = utf8.encode(text)
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

const utf8 = new TextEncoder()

export function shardForQueue(queue: string, shardCount: number): number {
  return fnv1a32(`q:${queue}`) % shardCount
}

export function shardForKey(key: string, shardCount: number): number {
  return fnv1a32(`k:${key}`) % shardCount
}
