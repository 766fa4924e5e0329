// The ingest scenario: with --dedup every message it sends carries a dedupId
// unique in the run; without, none does.
import t from 'tap'
import { ingestScenario } from '../../bench/load/ingest-scenario.js'
import { DEFAULT_SCENARIO_SETTINGS } from '../../bench/load/scenario.js'
import type { LoadClient } from '../../bench/load/transport.js'

function recordingClient(): { client: LoadClient; dedupIds: (string | undefined)[] } {
  const dedupIds: (string | undefined)[] = []
  const client = {
    send: async (_queue: string, _body: unknown, dedupId?: string) => void dedupIds.push(dedupId),
    sendBatch: async (_queue: string, bodies: unknown[], ids?: string[]) => void dedupIds.push(...(ids ?? bodies.map(() => undefined))),
  } as unknown as LoadClient
  return { client, dedupIds }
}

t.test('with dedup, each message of each send and batch has its own dedupId; without, none', async (t) => {
  for (const dedup of [true, false]) {
    const scenario = ingestScenario({ ...DEFAULT_SCENARIO_SETTINGS, runId: 'r1', batchEvery: 3, batchSize: 4, dedup })
    const { client, dedupIds } = recordingClient()
    for (let sequence = 0; sequence < 6; sequence++) await scenario.operate(client, sequence)
    t.equal(dedupIds.length, 4 + 2 * 4, 'four single sends and two batches of four')
    if (dedup) {
      t.equal(new Set(dedupIds).size, dedupIds.length, 'all distinct')
      t.ok(dedupIds.every((id) => id?.startsWith('r1-')), 'named after the run')
    } else {
      t.ok(dedupIds.every((id) => id === undefined))
    }
  }
})
