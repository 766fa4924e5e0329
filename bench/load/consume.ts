// The consumer's step shared by drain and mixed: one receive (long-polling
// when the queue is empty), then one ack of everything it got.
import type { ScenarioSettings } from './scenario.js'
import type { LoadClient } from './transport.js'

/** Long enough that nothing is redelivered during a run. */
const VISIBILITY_TIMEOUT_MS = 300_000

/** Resolves the number of messages received and acked (0 when the long poll ran out). */
export async function receiveAndAck(client: LoadClient, queue: string, settings: ScenarioSettings): Promise<number> {
  const messages = await client.receive(queue, { max: settings.receiveMax, waitMs: settings.waitMs, visibilityTimeoutMs: VISIBILITY_TIMEOUT_MS })
  if (messages.length > 0) await client.ack(queue, messages.map((m) => m.receipt))
  return messages.length
}
