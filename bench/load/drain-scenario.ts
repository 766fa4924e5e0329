// drain (k6/drain.js): many consumers. Setup fills the queue with
// `prefill` messages in batches of 1000; each operation receives up to
// `receiveMax` (long-polling `waitMs`) and acks them in one call.
import { receiveAndAck } from './consume.js'
import { inParallel, type OperationResult, type Scenario, type ScenarioSettings } from './scenario.js'
import type { LoadClient } from './transport.js'

const PREFILL_BATCH = 1000

export function drainScenario(settings: ScenarioSettings): Scenario {
  const queue = `load-drain-${settings.runId}`
  const payload = 'x'.repeat(settings.payloadBytes)
  let emptyReceives = 0
  return {
    name: 'drain',
    kinds: ['receive+ack', 'receive-empty'],
    async setup(clients: LoadClient[], log) {
      await clients[0]!.createQueue(queue)
      const batches = Math.ceil(settings.prefill / PREFILL_BATCH)
      const startedMs = performance.now()
      await inParallel(batches, clients.length, async (b) => {
        const size = Math.min(PREFILL_BATCH, settings.prefill - b * PREFILL_BATCH)
        const bodies = Array.from({ length: size }, (_, i) => ({ n: b * PREFILL_BATCH + i, payload }))
        await clients[b % clients.length]!.sendBatch(queue, bodies)
      })
      log(`drain: pre-filled ${settings.prefill} messages in ${Math.round(performance.now() - startedMs)} ms`)
    },
    async operate(client: LoadClient): Promise<OperationResult> {
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
    stats: () => ({ prefill: settings.prefill, emptyReceives }),
  }
}
