// The options of connect(), their defaults in one place, and their checks.
import type { Logger } from 'pino'
import { parsePeerAddress } from '../net/peer-address.js'
import { TroupeClientError } from './client-error.js'

export interface RetryOptions {
  /** Base of the first backoff delay. Default 20. */
  initialMs?: number
  /** No backoff delay exceeds this. Default 1000. */
  maxMs?: number
}

export interface ConnectOptions {
  /** Seed client TCP addresses (`host:port`); at least one. The rest of the cluster is learned from them. */
  nodes: readonly string[]
  /** Default: process.env.TROUPE_TOKEN. */
  token?: string
  /** A name for the nodes' logs. Default `troupe-client`. */
  clientName?: string
  /** Time allowed to each call, retries included. Default 10 000. A receive gets its waitMs on top. */
  deadlineMs?: number
  /** Time allowed to open one connection and finish its handshake. Default 3 000. */
  connectTimeoutMs?: number
  /** Exponential backoff with full jitter between retries. */
  retry?: RetryOptions
  /** Give each send a random dedupId, reused by its retries, so a retry never duplicates. Default true. */
  autoDedupId?: boolean
  /** Requests in flight on one connection; more wait in a local queue. Default 1024 (the node's limit too). */
  maxInFlightPerConnection?: number
  /** Requests that may wait in a connection's local queue; beyond it a call gets RATE_LIMITED (and retries). Default 65 536. */
  maxQueuedPerConnection?: number
  /** A keep-alive frame goes out after this long without writing. Default 30 000 (the node closes idle connections after 300 s). */
  keepAliveIntervalMs?: number
  /** A connection with requests waiting and nothing received for this long (a ping sent halfway included) is declared lost. Default 5 000. */
  livenessTimeoutMs?: number
  logger?: Logger
}

export interface ResolvedClientOptions {
  seeds: string[]
  token: string | undefined
  clientName: string
  deadlineMs: number
  connectTimeoutMs: number
  retryInitialMs: number
  retryMaxMs: number
  autoDedupId: boolean
  maxInFlightPerConnection: number
  maxQueuedPerConnection: number
  keepAliveIntervalMs: number
  livenessTimeoutMs: number
  logger: Logger | undefined
}

export const clientDefaults = Object.freeze({
  clientName: 'troupe-client',
  deadlineMs: 10_000,
  connectTimeoutMs: 3_000,
  retryInitialMs: 20,
  retryMaxMs: 1_000,
  autoDedupId: true,
  maxInFlightPerConnection: 1024,
  maxQueuedPerConnection: 65_536,
  keepAliveIntervalMs: 30_000,
  livenessTimeoutMs: 5_000,
})

/** Seeds beyond this are ignored: a map fetched from any one of them names the rest. */
export const SEEDS_MAX = 64

export function resolveClientOptions(options: ConnectOptions): ResolvedClientOptions {
  if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
    throw invalid('nodes must list at least one host:port address')
  }
  const seeds = [...new Set(options.nodes.slice(0, SEEDS_MAX))]
  for (const seed of seeds) {
    try {
      parsePeerAddress(seed)
    } catch {
      throw invalid(`nodes: ${JSON.stringify(seed)} is not a host:port address`)
    }
  }
  const resolved: ResolvedClientOptions = {
    seeds,
    token: options.token ?? process.env['TROUPE_TOKEN'] ?? undefined,
    clientName: options.clientName ?? clientDefaults.clientName,
    deadlineMs: positive('deadlineMs', options.deadlineMs, clientDefaults.deadlineMs),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, clientDefaults.connectTimeoutMs),
    retryInitialMs: positive('retry.initialMs', options.retry?.initialMs, clientDefaults.retryInitialMs),
    retryMaxMs: positive('retry.maxMs', options.retry?.maxMs, clientDefaults.retryMaxMs),
    autoDedupId: options.autoDedupId ?? clientDefaults.autoDedupId,
    maxInFlightPerConnection: positive('maxInFlightPerConnection', options.maxInFlightPerConnection, clientDefaults.maxInFlightPerConnection),
    maxQueuedPerConnection: positive('maxQueuedPerConnection', options.maxQueuedPerConnection, clientDefaults.maxQueuedPerConnection),
    keepAliveIntervalMs: positive('keepAliveIntervalMs', options.keepAliveIntervalMs, clientDefaults.keepAliveIntervalMs),
    livenessTimeoutMs: positive('livenessTimeoutMs', options.livenessTimeoutMs, clientDefaults.livenessTimeoutMs),
    logger: options.logger,
  }
  if (resolved.retryMaxMs < resolved.retryInitialMs) throw invalid('retry.maxMs must be at least retry.initialMs')
  if (resolved.token === '') resolved.token = undefined
  return resolved
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(`${name} must be a positive integer, got ${value}`)
  return value
}

function invalid(message: string): TroupeClientError {
  return new TroupeClientError('INVALID_ARGUMENT', message)
}
