// The rounds of the queue benchmark (batched enqueue, single enqueue,
// receive+ack), shared by the bench's own thread (in-process API) and the
// worker thread that drives the SDK (bench/fixtures/queue-client-worker.ts).
import type { TroupeClient } from '../../src/client/index.js'
import type { TroupeNode } from '../../src/index.js'
import { closedLoop, type LoopResult } from './closed-loop.js'

/** The queue operations a bench round needs, by the embedding API or the SDK. */
export interface QueueApi {
  sendBatch(queue: string, messages: { body: unknown }[]): Promise<unknown>
  send(queue: string, body: unknown): Promise<unknown>
  receive(queue: string, options: { max: number }): Promise<{ receipt: string }[]>
  ack(queue: string, receipts: string[]): Promise<void>
}

export async function queueRounds(apiOf: (loop: number) => QueueApi, queues: string[], durationMs: number): Promise<LoopResult[]> {
  const body = { payload: 'x'.repeat(80) }
  const batch = Array.from({ length: 100 }, () => ({ body }))
  const batched = await closedLoop(16, durationMs, async (loop) => {
    await apiOf(loop).sendBatch(queues[loop % queues.length]!, batch)
    return 100
  })
  const single = await closedLoop(64, durationMs, async (loop) => {
    await apiOf(loop).send(queues[loop % queues.length]!, body)
    return 1
  })
  const consume = await closedLoop(64, durationMs, async (loop) => {
    const queue = queues[loop % queues.length]!
    const messages = await apiOf(loop).receive(queue, { max: 10 })
    if (messages.length === 0) return 0
    await apiOf(loop).ack(queue, messages.map((m) => m.receipt))
    return messages.length
  })
  return [batched, single, consume]
}

export function inProcess(nodes: TroupeNode[]): (loop: number) => QueueApi {
  return (loop) => nodes[loop % nodes.length]!.queues
}

export function overTcp(client: TroupeClient): (loop: number) => QueueApi {
  const api: QueueApi = {
    sendBatch: (queue, messages) => client.queues.sendBatch(queue, messages),
    send: (queue, body) => client.queues.send(queue, body),
    receive: (queue, options) => client.queues.receive(queue, options),
    ack: (queue, receipts) => client.queues.ack(queue, receipts),
  }
  return () => api
}

