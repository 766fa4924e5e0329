// What a scenario needs from a way of talking to Troupe. The HTTP transport
// and the TCP SDK transport both implement it, so every scenario runs over
// either.

export interface ReceivedMessage {
  receipt: string
}

export interface ReceiveOptions {
  max: number
  waitMs: number
  visibilityTimeoutMs?: number
}

/** One worker's view of the cluster. Every call rejects on failure (a LoadError, or the SDK's error with a `code`). */
export interface LoadClient {
  createQueue(queue: string): Promise<void>
  deleteQueue(queue: string): Promise<void>
  /** With `dedupId`, a send the node runs twice (a retry) adds the message once. */
  send(queue: string, body: unknown, dedupId?: string): Promise<void>
  /** `dedupIds`, when given, has one id per body. */
  sendBatch(queue: string, bodies: unknown[], dedupIds?: string[]): Promise<void>
  receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]>
  ack(queue: string, receipts: string[]): Promise<void>
  kvPut(key: string, value: Buffer): Promise<void>
  /** A linearizable read; resolves null when the key does not exist. */
  kvGet(key: string): Promise<Buffer | null>
}

export type TransportName = 'http' | 'tcp'

export interface Transport {
  readonly name: TransportName
  /** The client worker `worker` uses; workers are spread over the nodes. */
  client(worker: number): LoadClient
  close(): Promise<void>
}
