// The part of the SDK (`troupe/client`) that the client commands use. The
// commands take this narrow interface instead of the SDK's whole client so
// that their tests can run them against an in-memory fake; the SDK's
// `TroupeClient` must stay assignable to it (checked where the CLI connects).

export interface CliQueueConfig {
  visibilityTimeoutMs: number
  maxReceives: number
  deadLetterQueue: string | null
  maxMessages: number
  delayMs: number
  retentionMs: number
}

export interface CliQueueStats {
  visible: number
  inFlight: number
  delayed: number
  total: number
}

export interface CliMessage {
  id: string
  receipt: string
  body: unknown
  receiveCount: number
  sentAt: number
  priority?: number
}

export interface CliClusterNode {
  id: number
  peer?: string
  http?: string
  tcp?: string
  state: string
}

export interface CliClusterShard {
  id: number
  leader: number
  term: number
  commitIndex: number
  members: number[]
}

export interface CliClusterMap {
  node: number
  shardCount: number
  nodes: CliClusterNode[]
  shards: CliClusterShard[]
}

export interface CliSendOptions {
  delayMs?: number
  priority?: number
  dedupId?: string
}

export interface CliBatchMessage extends CliSendOptions {
  body: unknown
}

export interface CliReceiveOptions {
  max?: number
  waitMs?: number
  visibilityTimeoutMs?: number
}

export interface CliKvEntry {
  value: Uint8Array
  version: number
  expiresAt?: number
}

export interface CliClient {
  queues: {
    put(name: string, config?: Partial<CliQueueConfig>): Promise<{ created: boolean; config: CliQueueConfig }>
    get(name: string): Promise<{ name: string; config: CliQueueConfig; stats: CliQueueStats }>
    list(): Promise<{ name: string; stats: CliQueueStats }[]>
    delete(name: string): Promise<void>
    purge(name: string): Promise<void>
    send(name: string, body: unknown, options?: CliSendOptions): Promise<string>
    sendBatch(name: string, messages: CliBatchMessage[]): Promise<string[]>
    receive(name: string, options?: CliReceiveOptions): Promise<CliMessage[]>
    ack(name: string, receipts: string | string[]): Promise<void>
  }
  kv: {
    get(key: string, options?: { consistency?: 'linearizable' | 'stale' }): Promise<CliKvEntry | undefined>
    put(key: string, value: string | Uint8Array, options?: { ttlMs?: number; ifVersion?: number }): Promise<number>
    delete(key: string, options?: { ifVersion?: number }): Promise<void>
  }
  cluster(): Promise<CliClusterMap>
  removeNode(id: number): Promise<void>
  close(): Promise<void>
}

/** What `connect` of the SDK receives from the CLI. */
export interface CliConnectOptions {
  nodes: string[]
  token?: string
  clientName: string
  deadlineMs: number
  connectTimeoutMs: number
}

export type CliConnect = (options: CliConnectOptions) => Promise<CliClient>
