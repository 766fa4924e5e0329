// The options of `npm run bench -- load`, parsed from bench/main.ts's option
// map, with their defaults in one place.
import { choiceOption, numberOption } from '../lib/report.js'
import { LoadError } from './load-error.js'
import { DEFAULT_SCENARIO_SETTINGS, SCENARIO_NAMES, type ScenarioName, type ScenarioSettings } from './scenario.js'
import type { TransportName } from './transport.js'

export type LoopMode = 'closed' | 'open'

export interface LoadSettings {
  scenario: ScenarioName
  transport: TransportName
  nodeCount: 1 | 3
  mode: LoopMode
  /** Closed loop: workers. Open loop: the cap on requests in flight. */
  concurrency: number
  /** Open loop: requests per second. */
  ratePerSec: number
  durationMs: number
  warmupMs: number
  /** Addresses of running nodes to load instead of starting nodes (HTTP or client TCP, per transport). */
  targets: string[]
  progress: boolean
  sync: 'always' | 'none'
  shards: number
  threads: number | undefined
  /** `--reads`: how the started nodes serve linearizable reads. */
  reads: 'safe' | 'lease-based'
  token: string | undefined
  requestTimeoutMs: number
  errorBackoffMs: number
  scenarioSettings: Omit<ScenarioSettings, 'runId'>
}

export const DEFAULT_CLOSED_CONCURRENCY = 32
export const DEFAULT_OPEN_MAX_OUTSTANDING = 256
export const DEFAULT_OPEN_RATE_PER_SEC = 1000
/** Workers, or requests in flight: each holds a socket or an SDK call. */
export const MAX_CONCURRENCY = 10_000
/** Longest run or warm-up: an hour of one-second buckets. */
export const MAX_SECONDS = 3600
export const MAX_QUEUES = 1000
/** Longer than the node's own 10 s commit timeout, so that its answer (504 TIMEOUT) is seen rather than the client giving up first. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000

/** Like numberOption, but 0 is allowed. */
function nonNegativeOption(options: Map<string, string | true>, name: string, fallback: number): number {
  const raw = options.get(name)
  return typeof raw === 'string' && Number(raw) === 0 ? 0 : numberOption(options, name, fallback)
}

function atMost(name: string, value: number, max: number): number {
  if (value > max) throw new LoadError('INVALID_OPTION', `--${name} must be at most ${max}, got ${value}`)
  return value
}

/** `http://host:port/`, `host:port`, comma-separated → `host:port` list. */
export function parseTargets(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, ''))
    .filter((part) => part.length > 0)
}

export function parseLoadSettings(options: Map<string, string | true>, env: NodeJS.ProcessEnv = process.env): LoadSettings {
  const mode = choiceOption(options, 'mode', ['closed', 'open'] as const, 'closed')
  const nodes = numberOption(options, 'nodes', 1, true)
  if (nodes !== 1 && nodes !== 3) throw new LoadError('INVALID_OPTION', `--nodes must be 1 or 3, got ${nodes}`)
  const target = options.get('target')
  if (target === true) throw new LoadError('INVALID_OPTION', '--target needs an address (host:port or URL, comma-separated for several)')
  const d = DEFAULT_SCENARIO_SETTINGS
  return {
    scenario: choiceOption(options, 'scenario', SCENARIO_NAMES, 'ingest'),
    transport: choiceOption(options, 'transport', ['http', 'tcp'] as const, 'http'),
    nodeCount: nodes,
    mode,
    concurrency: atMost('concurrency', numberOption(options, 'concurrency', mode === 'closed' ? DEFAULT_CLOSED_CONCURRENCY : DEFAULT_OPEN_MAX_OUTSTANDING, true), MAX_CONCURRENCY),
    ratePerSec: numberOption(options, 'rate', DEFAULT_OPEN_RATE_PER_SEC),
    durationMs: atMost('duration', numberOption(options, 'duration', 10), MAX_SECONDS) * 1000,
    warmupMs: atMost('warmup', nonNegativeOption(options, 'warmup', 2), MAX_SECONDS) * 1000,
    targets: target === undefined ? [] : parseTargets(target),
    progress: options.has('progress') || process.stderr.isTTY === true,
    sync: choiceOption(options, 'sync', ['always', 'none'] as const, 'always'),
    shards: numberOption(options, 'shards', 8, true),
    threads: options.has('threads') ? numberOption(options, 'threads', 1, true) : undefined,
    reads: choiceOption(options, 'reads', ['safe', 'lease-based'] as const, 'safe'),
    token: env['TROUPE_TOKEN'] || undefined,
    requestTimeoutMs: numberOption(options, 'timeout-ms', DEFAULT_REQUEST_TIMEOUT_MS),
    errorBackoffMs: numberOption(options, 'error-backoff-ms', 100),
    scenarioSettings: {
      payloadBytes: numberOption(options, 'size', d.payloadBytes, true),
      queues: atMost('queues', numberOption(options, 'queues', d.queues, true), MAX_QUEUES),
      batchSize: atMost('batch-size', numberOption(options, 'batch-size', d.batchSize, true), 1000),
      batchEvery: numberOption(options, 'batch-every', d.batchEvery, true),
      dedup: options.has('dedup'),
      prefill: numberOption(options, 'prefill', d.prefill, true),
      receiveMax: atMost('receive-max', numberOption(options, 'receive-max', d.receiveMax, true), 100),
      waitMs: atMost('wait-ms', nonNegativeOption(options, 'wait-ms', d.waitMs), 20_000),
      keys: numberOption(options, 'keys', d.keys, true),
      readPercent: atMost('read-percent', nonNegativeOption(options, 'read-percent', d.readPercent), 100),
      valueBytes: numberOption(options, 'value-size', d.valueBytes, true),
    },
  }
}
