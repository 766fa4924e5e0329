// The Troupe rows over the TCP client protocol through the SDK
// (`troupe/client`): one client for all callers, which keeps a connection per
// node, pipelines the callers' requests on it and sends each shard operation
// to the shard's leader. SDK defaults throughout, including a random dedupId
// on every send (what makes the SDK's retries safe).
import { connect, type BatchMessage, type TroupeClient } from '../../src/client/index.js'
import type { TroupeBenchClient } from './troupe-client.js'

export async function createTroupeTcpClient(addresses: string[], options: { sizeBytes: number }): Promise<TroupeBenchClient> {
  const client: TroupeClient = await connect({ nodes: addresses, clientName: 'troupe-peers-bench' })
  const payload = Buffer.alloc(options.sizeBytes, 'x')
  const value = Buffer.alloc(options.sizeBytes, 'v')
  const batches = new Map<number, BatchMessage[]>()
  return {
    transport: 'tcp',
    async createQueue(queue) {
      await client.queues.put(queue)
    },
    async send(_client, queue) {
      await client.queues.send(queue, payload)
    },
    async sendBatch(_client, queue, count) {
      let messages = batches.get(count)
      if (messages === undefined) {
        messages = Array.from({ length: count }, () => ({ body: payload }))
        batches.set(count, messages)
      }
      await client.queues.sendBatch(queue, messages)
    },
    async receiveAndAck(_client, queue, max) {
      const messages = await client.queues.receive(queue, { max })
      if (messages.length === 0) return 0
      await client.queues.ack(
        queue,
        messages.map((m) => m.receipt),
      )
      return messages.length
    },
    async kvPut(_client, key) {
      await client.kv.put(key, value)
    },
    async kvGet(_client, key) {
      const entry = await client.kv.get(key)
      if (entry === undefined) throw new Error(`kv get ${key}: missing`)
    },
    close: () => client.close(),
  }
}
