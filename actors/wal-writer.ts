// The WalWriter: one per node, on its own worker thread (an fdatasync blocks
// only that thread). Every shard actor sends its Raft writes here; the Wal
// groups whatever arrived during the previous fsync into one write and one
// fsync, and each shard hears back through which index it is durable.
//
// Appends are answered with ctx.later(): the actor accepts the next write
// while earlier ones wait for their fsync.
import type { ActorFactory } from '../src/runtime/index.js'
import { Wal, type DurableAck, type LogEntry, type ShardState, type ShardWrite, type WalOptions, type WalStats } from '../src/wal/index.js'

export type WalWriterMsg =
  | { type: 'append'; write: ShardWrite }
  | { type: 'state'; shard: number }
  | { type: 'read'; shard: number; fromIndex: number; toIndexExclusive: number; maxBytes?: number }
  | { type: 'stats' }

export type WalWriterReply = DurableAck | ShardState | LogEntry[] | WalStats

export interface WalWriterArgs {
  options: Omit<WalOptions, 'onSnapshotRequested'>
}

export function walWriter(args: WalWriterArgs): ActorFactory<WalWriterMsg, WalWriterReply> {
  return (ctx) => {
    let wal: Wal
    return {
      async started() {
        wal = await Wal.open(args.options)
        const recovery = wal.stats()
        ctx.log.info({ dir: args.options.dir, sync: args.options.sync ?? 'always', shards: wal.shards().length, recovery }, 'wal open')
      },
      async receive(msg) {
        switch (msg.type) {
          case 'append':
            // A refused write fails its asker only; the writer goes on. The
            // number of writes waiting here is bounded by the shards: each
            // has at most one Ready being persisted at a time.
            return ctx.later<WalWriterReply>(wal.submit(msg.write).then((receipt) => receipt.durable))
          case 'state':
            return wal.shardState(msg.shard)
          case 'read':
            return ctx.later<WalWriterReply>(wal.readEntries(msg.shard, msg.fromIndex, msg.toIndexExclusive, msg.maxBytes))
          case 'stats':
            return wal.stats()
        }
      },
      async stopping() {
        await wal?.close()
      },
    }
  }
}
