// kv (k6/kv.js): puts and linearizable gets over `keys` keys written in
// setup; `readPercent` of the operations are gets (chosen by sequence
// number, so the mix is exact).
import { inParallel, type OperationResult, type Scenario, type ScenarioSettings } from './scenario.js'
import type { LoadClient } from './transport.js'
import { LoadError } from './load-error.js'

export function kvScenario(settings: ScenarioSettings): Scenario {
  const keyOf = (n: number) => `load-${settings.runId}-${n % settings.keys}`
  const value = Buffer.alloc(settings.valueBytes, 0x61)
  return {
    name: 'kv',
    kinds: ['get', 'put'],
    async setup(clients: LoadClient[]) {
      await inParallel(settings.keys, clients.length, (k) => clients[k % clients.length]!.kvPut(keyOf(k), value))
    },
    async operate(client: LoadClient, sequence: number): Promise<OperationResult> {
      // Spread consecutive operations over the keys and over reads and writes alike.
      const key = keyOf(sequence * 7919)
      if (sequence % 100 < settings.readPercent) {
        const read = await client.kvGet(key)
        // Every key was written in setup and nothing deletes it.
        if (read === null) throw new LoadError('UNEXPECTED_STATUS', `key ${key} written in setup was not found`, 'KEY_MISSING')
        return { kind: 'get', items: 1 }
      }
      await client.kvPut(key, value)
      return { kind: 'put', items: 1 }
    },
    // Keys are left in place: the KV API has no prefix delete, and 1000 small keys are harmless.
    async teardown() {},
    stats: () => ({}),
  }
}
