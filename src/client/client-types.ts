// The data the SDK hands back: messages, queue descriptions, KV entries and
// the cluster map, as docs/PROTOCOL.md defines them on the wire.
import type { QueueConfig, QueueConfigPatch, QueueStats } from '../machines/index.js'

export type { QueueConfig, QueueConfigPatch, QueueStats }

export interface Message {
  id: string
  /** Names this delivery; pass it to ack, nack or extendVisibility. Invalid once redelivered. */
  receipt: string
  /** Any msgpack value, as it was sent. */
  body: unknown
  /** Deliveries so far, this one included. */
  receiveCount: number
  /** When the message was sent, ms since the epoch (the leader's clock). */
  sentAt: number
  priority: number
}

export interface SendOptions {
  /** Visible only after this delay (overrides the queue's delayMs). */
  delayMs?: number
  /** 0..9, higher first. */
  priority?: number
  /** A repeat within 5 minutes returns the first id and adds nothing. Default: a random UUID when autoDedupId is on. */
  dedupId?: string
}

export interface BatchMessage extends SendOptions {
  body: unknown
}

export interface ReceiveOptions {
  /** 1..100, default 1. */
  max?: number
  /** Long poll: wait up to this long for a message when the queue is empty (0..20000). Default 0. */
  waitMs?: number
  /** Overrides the queue's visibility timeout for these deliveries. */
  visibilityTimeoutMs?: number
}

export interface QueueInfo {
  name: string
  config: QueueConfig
  stats: QueueStats
}

export interface QueueSummary {
  name: string
  stats: QueueStats
}

export interface KvEntry {
  value: Buffer
  version: number
  /** When the key expires, ms since the epoch; absent when it does not. */
  expiresAt?: number
}

export type Consistency = 'linearizable' | 'stale'

export interface ClusterNode {
  id: number
  peer: string
  /** Absent until the node has announced it. */
  http?: string
  /** Client TCP address; absent until the node has announced it. */
  tcp?: string
  state: 'self' | 'up' | 'down'
}

export interface ClusterShard {
  id: number
  /** 0 while no leader is known (an election is under way). */
  leader: number
  term: number
  commitIndex: number
  members: number[]
}

/** The answer of the `cluster` op: the answering node's view. */
export interface ClusterMap {
  /** The node that answered. */
  node: number
  shardCount: number
  nodes: ClusterNode[]
  shards: ClusterShard[]
}
