// The TCP transport: the TypeScript SDK (src/client, docs/PROTOCOL.md). One
// client for all workers: it keeps one pipelined connection per node and
// sends each request straight to the shard's leader, retrying NOT_LEADER,
// UNAVAILABLE and lost connections within its deadline. Sends carry the
// SDK's automatic dedupId (its default), as an application's would.
import { connect, type TroupeClient } from '../../src/client/index.js'
import type { LoadClient, ReceivedMessage, ReceiveOptions, Transport } from './transport.js'

export interface TcpTransportOptions {
  /** `host:port` client TCP addresses (seeds: the rest of the cluster is learned from them). */
  addresses: string[]
  token?: string
  /** Per call, retries included. */
  requestTimeoutMs: number
}

class TcpLoadClient implements LoadClient {
  constructor(private readonly sdk: TroupeClient) {}

  async createQueue(queue: string): Promise<void> {
    await this.sdk.queues.put(queue)
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.sdk.queues.delete(queue)
  }

  async send(queue: string, body: unknown, dedupId?: string): Promise<void> {
    await this.sdk.queues.send(queue, body, dedupId === undefined ? {} : { dedupId })
  }

  async sendBatch(queue: string, bodies: unknown[], dedupIds?: string[]): Promise<void> {
    await this.sdk.queues.sendBatch(queue, bodies.map((body, i) => (dedupIds === undefined ? { body } : { body, dedupId: dedupIds[i]! })))
  }

  async receive(queue: string, options: ReceiveOptions): Promise<ReceivedMessage[]> {
    return this.sdk.queues.receive(queue, options)
  }

  async ack(queue: string, receipts: string[]): Promise<void> {
    await this.sdk.queues.ack(queue, receipts.length === 1 ? receipts[0]! : receipts)
  }

  async kvPut(key: string, value: Buffer): Promise<void> {
    await this.sdk.kv.put(key, value)
  }

  async kvGet(key: string): Promise<Buffer | null> {
    const entry = await this.sdk.kv.get(key)
    return entry === undefined ? null : entry.value
  }
}

export class TcpTransport implements Transport {
  readonly name = 'tcp' as const

  private constructor(
    private readonly sdk: TroupeClient,
    private readonly shared: LoadClient,
  ) {}

  static async open(options: TcpTransportOptions): Promise<TcpTransport> {
    const sdk = await connect({
      nodes: options.addresses,
      deadlineMs: options.requestTimeoutMs,
      clientName: 'troupe-bench-load',
      ...(options.token ? { token: options.token } : {}),
    })
    return new TcpTransport(sdk, new TcpLoadClient(sdk))
  }

  /** Every worker shares the SDK client: it pipelines their requests over its connections. */
  client(): LoadClient {
    return this.shared
  }

  async close(): Promise<void> {
    await this.sdk.close()
  }
}
