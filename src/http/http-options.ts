// Options of the HTTP server, with their defaults in one place.
import type { Logger } from 'pino'
import { REQUEST_BYTES_MAX } from '../machines/index.js'
import { LONG_POLLS_MAX_DEFAULT } from './long-polls.js'
import type { RateLimitOptions } from './rate-limiter.js'

export interface HttpServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 picks a free one. Default 7280. */
  port?: number
  /** When set (non-empty), `/v1` routes and `/metrics` need `Authorization: Bearer <token>`. */
  token?: string
  /** Token buckets per client address and per queue; off when absent. */
  rateLimit?: RateLimitOptions
  /** Long-poll receives held at once; beyond it a receive with waitMs > 0 gets 429. Default 10,000. */
  longPollMax?: number
  /** A request body may carry at most this many bytes (413 beyond). Default 10 MiB (CONTRACT §3). */
  bodyLimitBytes?: number
  /** Open connections at most; more are refused at accept. Default 10,000. */
  connectionsMax?: number
  /** Idle keep-alive connections are closed after this. Default 65 s (longer than common load-balancer and k6 idle timeouts). */
  keepAliveTimeoutMs?: number
  /** How long close() lets in-flight requests finish before it cuts connections. Default 5 s. */
  closeGraceMs?: number
  /** Addresses `/v1/cluster` reports for this node; `http` defaults to the bound address. */
  advertise?: { http?: string; tcp?: string; peer?: string }
  /** Access logs go to `debug`, failures to `warn`/`error`. */
  logger?: Logger
}

export interface ResolvedHttpServerOptions {
  host: string
  port: number
  token: string | undefined
  rateLimit: RateLimitOptions | undefined
  longPollMax: number
  bodyLimitBytes: number
  connectionsMax: number
  keepAliveTimeoutMs: number
  closeGraceMs: number
  advertise: { http?: string; tcp?: string; peer?: string }
  logger: Logger | undefined
}

export function resolveHttpServerOptions(options: HttpServerOptions): ResolvedHttpServerOptions {
  const resolved: ResolvedHttpServerOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 7280,
    token: options.token === '' ? undefined : options.token,
    rateLimit: options.rateLimit,
    longPollMax: options.longPollMax ?? LONG_POLLS_MAX_DEFAULT,
    bodyLimitBytes: options.bodyLimitBytes ?? REQUEST_BYTES_MAX,
    connectionsMax: options.connectionsMax ?? 10_000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 65_000,
    closeGraceMs: options.closeGraceMs ?? 5_000,
    advertise: options.advertise ?? {},
    logger: options.logger,
  }
  if (!Number.isSafeInteger(resolved.port) || resolved.port < 0 || resolved.port > 65_535) throw new RangeError(`port must be in [0, 65535], got ${resolved.port}`)
  for (const field of ['longPollMax', 'bodyLimitBytes', 'connectionsMax', 'keepAliveTimeoutMs', 'closeGraceMs'] as const) {
    const value = resolved[field]
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${field} must be a positive integer, got ${value}`)
  }
  return resolved
}
