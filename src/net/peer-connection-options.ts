// Options of a peer connection, their defaults in one place, and their
// validation (done once, before any socket is touched).
import type { Logger } from 'pino'
import { FRAME_MAX_LENGTH } from './frame-decoder.js'
import { silentLogger } from './logger.js'
import { NetError } from './net-error.js'
import type { ReadMode } from './peer-handshake.js'

export interface PeerConnectionOptions {
  /** This node's id (a positive integer). */
  localId: number
  clusterId?: string | undefined
  /** The cluster secret; absent, peers exchange ids without authentication. */
  secret?: string | Uint8Array | undefined
  /** How this node serves linearizable reads; the handshake refuses a peer that differs. Default `safe`. */
  reads?: ReadMode | undefined
  /** The handshake must finish within this, from the moment the socket is connected. */
  handshakeTimeoutMs?: number
  /** Largest frame payload accepted or sent after the handshake. */
  maxFrameBytes?: number
  /** Bound on outbound bytes (queued + held by the socket); sends over it are dropped. */
  maxQueuedBytes?: number
  /** Outbound frames are packed into buffers of this size (one write each). */
  slabBytes?: number
  /** A heartbeat goes out when nothing else was sent during this interval. */
  heartbeatIntervalMs?: number
  /** Close the connection when nothing arrived for this long (> heartbeatIntervalMs). */
  idleTimeoutMs?: number
  /** TCP keep-alive initial delay. */
  keepAliveDelayMs?: number
  /** After sending a handshake refusal, how long to wait for the peer to read it before destroying the socket. */
  closeLingerMs?: number
  logger?: Logger | undefined
}

export const peerConnectionDefaults = {
  handshakeTimeoutMs: 5_000,
  maxFrameBytes: 16 * 1024 * 1024,
  maxQueuedBytes: 64 * 1024 * 1024,
  slabBytes: 256 * 1024,
  heartbeatIntervalMs: 1_000,
  idleTimeoutMs: 5_000,
  keepAliveDelayMs: 10_000,
  closeLingerMs: 1_000,
} as const

export type ResolvedConnectionOptions = Required<Omit<PeerConnectionOptions, 'clusterId' | 'secret' | 'reads' | 'logger'>> &
  Pick<PeerConnectionOptions, 'clusterId' | 'secret'> & { reads: ReadMode; logger: Logger }


export function resolveConnectionOptions(options: PeerConnectionOptions): ResolvedConnectionOptions {
  const resolved: ResolvedConnectionOptions = {
    localId: options.localId,
    clusterId: options.clusterId,
    secret: options.secret,
    reads: options.reads ?? 'safe',
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? peerConnectionDefaults.handshakeTimeoutMs,
    maxFrameBytes: options.maxFrameBytes ?? peerConnectionDefaults.maxFrameBytes,
    maxQueuedBytes: options.maxQueuedBytes ?? peerConnectionDefaults.maxQueuedBytes,
    slabBytes: options.slabBytes ?? peerConnectionDefaults.slabBytes,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? peerConnectionDefaults.heartbeatIntervalMs,
    idleTimeoutMs: options.idleTimeoutMs ?? peerConnectionDefaults.idleTimeoutMs,
    keepAliveDelayMs: options.keepAliveDelayMs ?? peerConnectionDefaults.keepAliveDelayMs,
    closeLingerMs: options.closeLingerMs ?? peerConnectionDefaults.closeLingerMs,
    logger: options.logger ?? silentLogger(),
  }
  const positive = ['handshakeTimeoutMs', 'maxFrameBytes', 'maxQueuedBytes', 'slabBytes', 'heartbeatIntervalMs', 'idleTimeoutMs', 'keepAliveDelayMs'] as const
  for (const name of positive) {
    const value = resolved[name]
    if (!Number.isSafeInteger(value) || value < 1) throw new NetError('INVALID_CONFIG', `${name} must be a positive integer, got ${value}`)
  }
  if (!Number.isSafeInteger(resolved.closeLingerMs) || resolved.closeLingerMs < 0) {
    throw new NetError('INVALID_CONFIG', `closeLingerMs must be a non-negative integer, got ${resolved.closeLingerMs}`)
  }
  if (resolved.maxFrameBytes > FRAME_MAX_LENGTH) throw new NetError('INVALID_CONFIG', `maxFrameBytes must be at most ${FRAME_MAX_LENGTH}`)
  if (resolved.maxQueuedBytes < resolved.maxFrameBytes + 4) {
    throw new NetError('INVALID_CONFIG', 'maxQueuedBytes must hold at least one frame of maxFrameBytes (plus its 4-byte header)')
  }
  if (resolved.idleTimeoutMs <= resolved.heartbeatIntervalMs) {
    throw new NetError('INVALID_CONFIG', 'idleTimeoutMs must be longer than heartbeatIntervalMs')
  }
  return resolved
}
