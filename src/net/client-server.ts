// startClientServer(): the client TCP protocol (docs/PROTOCOL.md) in front of
// a TroupeNode. It listens, bounds the number of sockets, hands each accepted
// one to a ClientConnection and shuts down in order: stop accepting, let the
// requests in flight finish (long polls answer at once with what they have),
// tell every client UNAVAILABLE, close.
import { createServer, type Server, type Socket } from 'node:net'
import type { Logger } from 'pino'
import type { TroupeNode } from '../node/troupe-node.js'
import { ClientConnection, tokenChecker, type ClientConnectionHost, type ClientServerCounters } from './client-connection.js'
import { ClientLongPolls, LONG_POLL_DRAIN_MS } from './client-long-polls.js'
import { resolveClientServerOptions, type ClientServerOptions } from './client-server-options.js'
import { RETRY_AFTER_SHUTDOWN_MS, RETRY_AFTER_UNAVAILABLE_MS } from './client-wire-error.js'
import { FrameEncoder } from './frame-encoder.js'
import { silentLogger } from './logger.js'
import { NetError } from './net-error.js'
import { formatPeerAddress, type PeerAddress } from './peer-address.js'

/** Sockets refused over maxConnections that may linger to read our error at once; beyond, they are cut without one. */
const REFUSING_MAX = 1_024

export interface ClientServerStats extends ClientServerCounters {
  /** Client connections open now (handshaking ones included). */
  connections: number
  accepted: number
  /** Refused at accept: over maxConnections, or the server was closing. */
  refused: number
  /** Requests running now, over every connection. */
  inFlight: number
  /** Long-poll receives held now. */
  longPolls: number
}

export interface ClientServerHandle {
  /** The bound address (the actual port when listening on port 0). */
  readonly address: PeerAddress
  /** `host:port` announced to the cluster as this node's client address. */
  readonly advertised: string
  /**
   * Stops accepting connections; the open ones are still served. The first
   * step of a graceful stop (then the node's handOverLeadership, then close).
   */
  stopAccepting(): void
  /**
   * Stops accepting, lets requests in flight finish (at most closeGraceMs),
   * sends every client a connection-level UNAVAILABLE and resolves once every
   * socket is gone (stragglers are destroyed after closeLingerMs).
   */
  close(): Promise<void>
  stats(): ClientServerStats
}

export async function startClientServer(node: TroupeNode, options: ClientServerOptions): Promise<ClientServerHandle> {
  const config = resolveClientServerOptions(options)
  const logger: Logger = (config.logger ?? silentLogger()).child({ actor: 'client-server', node: node.id })
  const shutdown = new AbortController()
  const connections = new Set<ClientConnection>()
  const refusing = new Set<Socket>()
  const counters: ClientServerCounters = {
    handshakesSucceeded: 0,
    handshakesFailed: 0,
    requests: 0,
    errorAnswers: 0,
    protocolErrors: 0,
    framesTooLarge: 0,
    idleTimeouts: 0,
    readPauses: 0,
  }
  let accepted = 0
  let refused = 0
  let onAllIdle: (() => void) | undefined
  let onAllClosed: (() => void) | undefined
  const inFlight = (): number => {
    let total = 0
    for (const connection of connections) total += connection.inFlight
    return total
  }

  const host: ClientConnectionHost = {
    node,
    options: config,
    encoder: new FrameEncoder({ maxFrameBytes: config.maxFrameBytes }),
    longPolls: new ClientLongPolls(config.longPollMax),
    logger,
    shutdown: shutdown.signal,
    counters,
    checkToken: tokenChecker(config.token),
    onIdle: () => {
      if (onAllIdle !== undefined && inFlight() === 0) onAllIdle()
    },
    onClosed: (connection) => {
      connections.delete(connection)
      if (onAllIdle !== undefined && inFlight() === 0) onAllIdle()
      if (onAllClosed !== undefined && connections.size === 0 && refusing.size === 0) onAllClosed()
    },
  }
  const refusalFrame = host.encoder.encode({
    id: null,
    ok: false,
    error: { code: 'UNAVAILABLE', message: `this node holds its limit of ${config.maxConnections} client connections`, retryAfterMs: RETRY_AFTER_UNAVAILABLE_MS },
  })

  const refuse = (socket: Socket): void => {
    refused++
    if (shutdown.signal.aborted || refusing.size >= REFUSING_MAX) {
      socket.destroy()
      return
    }
    refusing.add(socket)
    const timer = setTimeout(() => socket.destroy(), config.closeLingerMs)
    socket.on('error', () => undefined)
    socket.on('data', () => undefined) // read and drop, so that the close is clean and the refusal is not lost to a reset
    socket.once('close', () => {
      clearTimeout(timer)
      refusing.delete(socket)
      if (onAllClosed !== undefined && connections.size === 0 && refusing.size === 0) onAllClosed()
    })
    socket.end(refusalFrame)
  }

  const server: Server = createServer({ noDelay: true, keepAlive: true }, (socket) => {
    accepted++
    if (shutdown.signal.aborted || connections.size >= config.maxConnections) {
      refuse(socket)
      return
    }
    connections.add(new ClientConnection(socket, host))
  })
  // An accept error (EMFILE) must not take the node down; the next connection tries again.
  server.on('error', (error) => logger.error({ err: error }, 'client server error'))

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(new NetError('LISTEN_FAILED', `cannot listen on ${config.host}:${config.port}: ${error.message}`, { cause: error }))
    server.once('error', onError)
    server.listen({ host: config.host, port: config.port }, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const bound = server.address()
  const address: PeerAddress = typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : { host: config.host, port: config.port }
  const advertised = config.advertise ?? formatPeerAddress(address)
  node.announce({ tcp: advertised })
  logger.info({ tcp: formatPeerAddress(address), advertised, auth: config.token !== undefined }, 'client protocol listening')

  const waitUntil = (arm: (done: () => void) => void, done: () => boolean, timeoutMs: number): Promise<void> =>
    new Promise<void>((resolve) => {
      if (done()) return resolve()
      const timer = setTimeout(resolve, timeoutMs)
      arm(() => {
        clearTimeout(timer)
        resolve()
      })
    })

  let listenerClosed: Promise<void> | undefined
  const stopListening = (): Promise<void> => (listenerClosed ??= new Promise<void>((resolve) => server.close(() => resolve())))
  let closed: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      shutdown.abort()
      const stopped = stopListening()
      await waitUntil((done) => (onAllIdle = done), () => inFlight() === 0, config.closeGraceMs)
      onAllIdle = undefined
      for (const connection of connections) connection.fail('UNAVAILABLE', 'the node is shutting down', { retryAfterMs: RETRY_AFTER_SHUTDOWN_MS })
      await waitUntil((done) => (onAllClosed = done), () => connections.size === 0 && refusing.size === 0, config.closeLingerMs + 100)
      onAllClosed = undefined
      for (const connection of connections) connection.destroy()
      for (const socket of refusing) socket.destroy()
      await stopped
      // Cancelled receives settle quickly; release what they still got while the node still runs.
      await host.longPolls.drain(LONG_POLL_DRAIN_MS)
      logger.info('client protocol closed')
    })())

  const stats = (): ClientServerStats => ({
    ...counters,
    connections: connections.size,
    accepted,
    refused,
    inFlight: inFlight(),
    longPolls: host.longPolls.held,
  })

  return { address, advertised, stopAccepting: () => void stopListening(), close, stats }
}
