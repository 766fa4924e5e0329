// Options of the client protocol server, with their defaults in one place
// (docs/PROTOCOL.md lists the same limits).
import type { Logger } from 'pino'
import { REQUEST_BYTES_MAX } from '../machines/index.js'
import { FRAME_MAX_LENGTH } from './frame-decoder.js'
import { NetError } from './net-error.js'

export interface ClientServerOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string
  /** Port; 0 picks a free one (see the handle's `address`). Default 7281. */
  port?: number
  /** When set (non-empty), a hello must carry it (TROUPE_TOKEN). */
  token?: string
  /** Open sockets at most (handshaking ones included); more get UNAVAILABLE and are closed. Default 10,000. */
  maxConnections?: number
  /** Requests running at once per connection; at the limit the server stops reading that socket. Default 1,024. */
  maxInFlightPerConnection?: number
  /** A connection with nothing in flight and nothing received for this long is closed. Default 300 s. */
  idleTimeoutMs?: number
  /** A connection that has not sent its hello in this time is closed. Default 10 s. */
  handshakeTimeoutMs?: number
  /** Largest frame payload, both directions. Default 10 MiB + 64 KiB (a 10 MiB request plus its envelope). */
  maxFrameBytes?: number
  /** Long-poll receives held at once by this server; beyond it RATE_LIMITED. Default 10,000. */
  longPollMax?: number
  /** Stop reading a connection while this many answer bytes wait to be written to it. Default 8 MiB. */
  outboundHighWaterBytes?: number
  /** How long close() lets in-flight requests finish before it closes the connections. Default 5 s. */
  closeGraceMs?: number
  /** After a connection-level error, how long the socket may take to close before it is destroyed. Default 1 s. */
  closeLingerMs?: number
  /** The `host:port` clients should use for this node (announced to the cluster). Default: the bound address. */
  advertise?: string
  /** Connection events go to `debug`, unexpected failures to `error`. */
  logger?: Logger
}

export interface ResolvedClientServerOptions {
  host: string
  port: number
  token: string | undefined
  maxConnections: number
  maxInFlightPerConnection: number
  idleTimeoutMs: number
  handshakeTimeoutMs: number
  maxFrameBytes: number
  longPollMax: number
  outboundHighWaterBytes: number
  closeGraceMs: number
  closeLingerMs: number
  advertise: string | undefined
  logger: Logger | undefined
}

/** The envelope of a request around its bodies: id, op, field names, msgpack headers of a full batch. */
export const REQUEST_ENVELOPE_BYTES_MAX = 64 * 1024

export const clientServerDefaults = {
  host: '127.0.0.1',
  port: 7281,
  maxConnections: 10_000,
  maxInFlightPerConnection: 1_024,
  idleTimeoutMs: 300_000,
  handshakeTimeoutMs: 10_000,
  maxFrameBytes: REQUEST_BYTES_MAX + REQUEST_ENVELOPE_BYTES_MAX,
  longPollMax: 10_000,
  outboundHighWaterBytes: 8 * 1024 * 1024,
  closeGraceMs: 5_000,
  closeLingerMs: 1_000,
} as const

export function resolveClientServerOptions(options: ClientServerOptions): ResolvedClientServerOptions {
  const resolved: ResolvedClientServerOptions = {
    host: options.host ?? clientServerDefaults.host,
    port: options.port ?? clientServerDefaults.port,
    token: options.token === '' ? undefined : options.token,
    maxConnections: options.maxConnections ?? clientServerDefaults.maxConnections,
    maxInFlightPerConnection: options.maxInFlightPerConnection ?? clientServerDefaults.maxInFlightPerConnection,
    idleTimeoutMs: options.idleTimeoutMs ?? clientServerDefaults.idleTimeoutMs,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? clientServerDefaults.handshakeTimeoutMs,
    maxFrameBytes: options.maxFrameBytes ?? clientServerDefaults.maxFrameBytes,
    longPollMax: options.longPollMax ?? clientServerDefaults.longPollMax,
    outboundHighWaterBytes: options.outboundHighWaterBytes ?? clientServerDefaults.outboundHighWaterBytes,
    closeGraceMs: options.closeGraceMs ?? clientServerDefaults.closeGraceMs,
    closeLingerMs: options.closeLingerMs ?? clientServerDefaults.closeLingerMs,
    advertise: options.advertise,
    logger: options.logger,
  }
  if (!Number.isSafeInteger(resolved.port) || resolved.port < 0 || resolved.port > 65_535) {
    throw new NetError('INVALID_CONFIG', `port must be an integer in [0, 65535], got ${resolved.port}`)
  }
  const positive = [
    'maxConnections',
    'maxInFlightPerConnection',
    'idleTimeoutMs',
    'handshakeTimeoutMs',
    'maxFrameBytes',
    'longPollMax',
    'outboundHighWaterBytes',
    'closeGraceMs',
    'closeLingerMs',
  ] as const
  for (const field of positive) {
    const value = resolved[field]
    if (!Number.isSafeInteger(value) || value <= 0) throw new NetError('INVALID_CONFIG', `${field} must be a positive integer, got ${value}`)
  }
  if (resolved.maxFrameBytes > FRAME_MAX_LENGTH) {
    throw new NetError('INVALID_CONFIG', `maxFrameBytes must be at most ${FRAME_MAX_LENGTH}, got ${resolved.maxFrameBytes}`)
  }
  return resolved
}
