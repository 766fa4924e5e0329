// mixed (k6/mixed.js): producers and consumers on one queue, half of the
// operations each: even sequence numbers send one message, odd ones
// receive (long-polling) and ack.
import { receiveAndAck } from './consume.js'
import type { OperationResult, Scenario, ScenarioSettings } from './scenario.js'
import type { LoadClient } from './transport.js'

export function mixedScenario(settings: ScenarioSettings): Scenario {
  const queue = `load-mixed-${settings.runId}`
  const payload = 'x'.repeat(settings.payloadBytes)
  let emptyReceives = 0
  return {
    name: 'mixed',
    kinds: ['send', 'receive+ack', 'receive-empty'],
    async setup(clients: LoadClient[]) {
      await clients[0]!.createQueue(queue)
    },
    async operate(client: LoadClient, sequence: number): Promise<OperationResult> {
      if (sequence % 2 === 0) {
        await client.send(queue, { n: sequence, payload })
        return { kind: 'send', items: 1 }
      }
      const items = await receiveAndAck(client, queue, settings)
      if (items === 0) {
        // A long poll that found nothing waited on purpose: kept apart so it does not pass for a slow receive+ack.
        emptyReceives++
        return { kind: 'receive-empty', items: 0 }
      }
      return { kind: 'receive+ack', items }
    },
    async teardown(client: LoadClient) {
      await client.deleteQueue(queue)
    },
    stats: () => ({ emptyReceives }),
  }
}
