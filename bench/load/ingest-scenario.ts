// ingest (k6/ingest.js): many producers. Most operations send one message;
// one in `batchEvery` sends a batch of `batchSize`. With `queues` > 1 the
// operations go round robin over that many queues, so over several shards.
// With `dedup`, every message carries a dedupId unique in the run.
import { inParallel, type OperationResult, type Scenario, type ScenarioSettings } from './scenario.js'
import type { LoadClient } from './transport.js'

/** The queues an ingest run with this `runId` sends to. */
export function ingestQueueNames(runId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (count === 1 ? `load-ingest-${runId}` : `load-ingest-${runId}-${i}`))
}

export function ingestScenario(settings: ScenarioSettings): Scenario {
  const queues = ingestQueueNames(settings.runId, settings.queues)
  const payload = 'x'.repeat(settings.payloadBytes)
  return {
    name: 'ingest',
    kinds: ['send', 'send-batch'],
    async setup(clients: LoadClient[]) {
      await inParallel(queues.length, clients.length, (i) => clients[i % clients.length]!.createQueue(queues[i]!))
    },
    async operate(client: LoadClient, sequence: number): Promise<OperationResult> {
      const queue = queues[sequence % queues.length]!
      if (sequence % settings.batchEvery === settings.batchEvery - 1) {
        const bodies = Array.from({ length: settings.batchSize }, (_, i) => ({ n: sequence, i, payload }))
        const dedupIds = settings.dedup ? bodies.map((_, i) => `${settings.runId}-${sequence}-${i}`) : undefined
        await client.sendBatch(queue, bodies, dedupIds)
        return { kind: 'send-batch', items: settings.batchSize }
      }
      await client.send(queue, { n: sequence, payload }, settings.dedup ? `${settings.runId}-${sequence}` : undefined)
      return { kind: 'send', items: 1 }
    },
    async teardown(client: LoadClient) {
      for (const queue of queues) await client.deleteQueue(queue)
    },
    stats: () => ({ queues: queues.length }),
  }
}
