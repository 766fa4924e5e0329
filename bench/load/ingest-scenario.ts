// ingest (k6/ingest.js): many producers. Most operations send one message;
// one in `batchEvery` sends a batch of `batchSize`.
import type { OperationResult, Scenario, ScenarioSettings } from './scenario.js'
import type { LoadClient } from './transport.js'

export function ingestScenario(settings: ScenarioSettings): Scenario {
  const queue = `load-ingest-${settings.runId}`
  const payload = 'x'.repeat(settings.payloadBytes)
  return {
    name: 'ingest',
    kinds: ['send', 'send-batch'],
    async setup(clients: LoadClient[]) {
      await clients[0]!.createQueue(queue)
    },
    async operate(client: LoadClient, sequence: number): Promise<OperationResult> {
      if (sequence % settings.batchEvery === settings.batchEvery - 1) {
        const bodies = Array.from({ length: settings.batchSize }, (_, i) => ({ n: sequence, i, payload }))
        await client.sendBatch(queue, bodies)
        return { kind: 'send-batch', items: settings.batchSize }
      }
      await client.send(queue, { n: sequence, payload })
      return { kind: 'send', items: 1 }
    },
    async teardown(client: LoadClient) {
      await client.deleteQueue(queue)
    },
    stats: () => ({}),
  }
}
