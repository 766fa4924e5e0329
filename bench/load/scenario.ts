// A scenario is what one operation of the load does (the k6 scripts' four
// workloads), independent of the transport and of the open or closed loop
// that paces it.
import type { LoadClient } from './transport.js'

export type ScenarioName = 'ingest' | 'drain' | 'mixed' | 'kv'
export const SCENARIO_NAMES: readonly ScenarioName[] = ['ingest', 'drain', 'mixed', 'kv']

export interface OperationResult {
  /** The row this operation is reported under, e.g. `send` or `receive+ack`. */
  kind: string
  /** Messages or keys it handled (a batch of 10 is 1 operation of 10 items; an empty receive is 0). */
  items: number
}

export interface Scenario {
  readonly name: ScenarioName
  /** The kinds its operations report, in table order. */
  readonly kinds: readonly string[]
  /** Creates what the run needs (queues, keys, pre-filled messages), using up to `clients.length` requests at once. */
  setup(clients: LoadClient[], log: (line: string) => void): Promise<void>
  /**
   * One operation. `sequence` counts operations over the whole run (all
   * workers), so mixes are exact fractions of the operations issued.
   */
  operate(client: LoadClient, sequence: number): Promise<OperationResult>
  /** Removes what setup created (best effort). */
  teardown(client: LoadClient): Promise<void>
  /** Figures particular to the scenario, e.g. how many receives came back empty. */
  stats(): Record<string, number>
}

export interface ScenarioSettings {
  /** Unique per run, so runs against a long-lived node do not mix. */
  runId: string
  payloadBytes: number
  /** ingest: queues the sends are spread over (round robin by operation number); each queue lives in one shard. */
  queues: number
  /** ingest: one operation in `batchEvery` is a batch of `batchSize` messages. */
  batchSize: number
  batchEvery: number
  /** ingest: every message carries a dedupId unique in the run, so the node may run a send again after losing its leader. */
  dedup: boolean
  /** drain: messages sent before the measurement. */
  prefill: number
  /** drain, mixed: receive up to this many per call, long-polling `waitMs`. */
  receiveMax: number
  waitMs: number
  /** kv: distinct keys, and the share of operations that are reads. */
  keys: number
  readPercent: number
  valueBytes: number
}

export const DEFAULT_SCENARIO_SETTINGS: Omit<ScenarioSettings, 'runId'> = {
  payloadBytes: 100,
  queues: 1,
  batchSize: 10,
  batchEvery: 10,
  dedup: false,
  prefill: 100_000,
  receiveMax: 10,
  waitMs: 1000,
  keys: 1000,
  readPercent: 80,
  valueBytes: 100,
}

/** Runs `count` tasks with at most `parallel` at once; `task(i)` for i in 0..count-1. */
export async function inParallel(count: number, parallel: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, count)) }, lane))
}
