// What one run measures: workloads, and a measurement of one system on one
// workload under stated conditions.
import type { LoadResult, LoadWindow } from './closed-loop.js'
import type { Transport } from './options.js'

export const WORKLOADS = ['enqueue-1', 'enqueue-100', 'consume-ack', 'kv-put', 'kv-get'] as const
export type Workload = (typeof WORKLOADS)[number]

export const WORKLOAD_LABELS: Record<Workload, string> = {
  'enqueue-1': 'enqueue, 1 per call',
  'enqueue-100': 'enqueue, batches of 100',
  'consume-ack': 'receive + ack',
  'kv-put': 'KV put',
  'kv-get': 'KV linearizable get',
}

export interface PeerMeasurement {
  workload: Workload
  /** The system and its setup, e.g. `NATS JetStream R3`. */
  peer: string
  /** What the row's figure depends on: versions, fsync policy, replicas, API used. */
  conditions: string
  /** The same in a few words for the table's column, e.g. `3 replicas, no fsync`. */
  summary: string
  result: LoadResult
}

/** What every system module gets: the same load shape for all. */
export interface RunContext extends LoadWindow {
  sizeBytes: number
  /** How the Troupe rows reach the nodes; the peers use their own clients. */
  transport: Transport
  /** A fresh directory for this system's data, removed after the system stops. */
  dataDir: string
  install: boolean
  log: (line: string) => void
}

/** A system under test: starts its servers, runs its rows one by one, stops and cleans up. */
export type SystemRun = (context: RunContext) => Promise<PeerMeasurement[]>

/** Keys the KV rows cycle through. */
export const KV_KEYS = 1000

export function kvKey(sequence: number): string {
  return `bench-${sequence % KV_KEYS}`
}

/** Messages a consumer asks for per call, on every system that receives in calls. */
export const RECEIVE_BATCH = 10
export const ENQUEUE_BATCH = 100
