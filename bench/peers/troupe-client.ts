// What the Troupe rows need from a client, so that the same rows run over
// the HTTP API or the TCP SDK. `client` is the caller's index: an
// implementation may pin each caller to one node or connection.

export type TroupeTransport = 'http' | 'tcp'

export interface TroupeBenchClient {
  readonly transport: TroupeTransport
  createQueue(queue: string): Promise<void>
  send(client: number, queue: string): Promise<void>
  sendBatch(client: number, queue: string, count: number): Promise<void>
  /** Receives up to `max` messages and acks them in one call; resolves how many. */
  receiveAndAck(client: number, queue: string, max: number): Promise<number>
  kvPut(client: number, key: string): Promise<void>
  /** A linearizable get; rejects when the key is missing. */
  kvGet(client: number, key: string): Promise<void>
  close(): Promise<void>
}
