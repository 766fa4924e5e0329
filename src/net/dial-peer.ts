// Dials a peer node and runs the handshake as the dialing side.
import { connect } from 'node:net'
import { NetError } from './net-error.js'
import { parsePeerAddress } from './peer-address.js'
import { PeerConnection } from './peer-connection.js'
import { resolveConnectionOptions, type PeerConnectionOptions } from './peer-connection-options.js'

export interface DialPeerOptions extends PeerConnectionOptions {
  /** The node id that must answer at this address; absent: any member (a node joining through it). */
  expectedRemoteId?: number | undefined
  /** The TCP connection must be established within this. */
  connectTimeoutMs?: number
  /** Aborting destroys the socket and rejects with CLOSED. */
  signal?: AbortSignal | undefined
  /** For tests only: speak another protocol version. */
  protocolVersion?: number | undefined
}

export const dialPeerDefaults = {
  connectTimeoutMs: 3_000,
} as const

/** Resolves with a verified connection (call start() on it); rejects with a NetError. */
export function dialPeer(address: string, options: DialPeerOptions): Promise<PeerConnection> {
  let host: string
  let port: number
  try {
    ;({ host, port } = parsePeerAddress(address))
    resolveConnectionOptions(options) // refuse bad options before connecting
  } catch (error) {
    return Promise.reject(error)
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? dialPeerDefaults.connectTimeoutMs
  if (!Number.isSafeInteger(connectTimeoutMs) || connectTimeoutMs < 1) {
    return Promise.reject(new NetError('INVALID_CONFIG', `connectTimeoutMs must be a positive integer, got ${connectTimeoutMs}`))
  }
  const signal = options.signal
  if (signal?.aborted === true) return Promise.reject(new NetError('CLOSED', 'dial aborted'))
  return new Promise<PeerConnection>((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true })
    let settled = false
    const settle = (): void => {
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const fail = (error: NetError): void => {
      if (settled) return
      settle()
      socket.destroy()
      reject(error)
    }
    const onAbort = (): void => fail(new NetError('CLOSED', 'dial aborted'))
    const onConnectError = (error: Error): void => fail(new NetError('CONNECT_FAILED', `cannot connect to ${address}: ${error.message}`, { cause: error }))
    const timer = setTimeout(() => fail(new NetError('CONNECT_FAILED', `no connection to ${address} within ${connectTimeoutMs} ms`)), connectTimeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('error', onConnectError)
    socket.once('connect', () => {
      clearTimeout(timer) // from here on the handshake timeout applies
      socket.off('error', onConnectError)
      const opening = PeerConnection.open(socket, options, {
        role: 'dialer',
        expectedRemoteId: options.expectedRemoteId,
        protocolVersion: options.protocolVersion,
      })
      opening.then(
        (connection) => {
          if (settled) {
            connection.close()
            return
          }
          settle()
          resolve(connection)
        },
        (error: NetError) => fail(error),
      )
    })
  })
}
