// startHttpServer(): the HTTP API of CONTRACT §3–§4 on `node:http`, in front
// of a TroupeNode. Measured against fastify on this machine (hello route,
// keep-alive, 32 connections) node:http answered ~40% more requests per
// second, so routing, validation (ajv) and errors are done here directly.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TroupeNode } from '../node/troupe-node.js'
import { bearerAuth } from './bearer-auth.js'
import { HttpError, sendError, toHttpError } from './http-error.js'
import { HttpMetrics } from './http-metrics.js'
import { resolveHttpServerOptions, type HttpServerOptions } from './http-options.js'
import { kvRoutes } from './kv-routes.js'
import { LongPolls } from './long-polls.js'
import { nodeRoutes } from './node-routes.js'
import { buildOpenApi } from './openapi.js'
import { queueRoutes } from './queue-routes.js'
import { RateLimiter } from './rate-limiter.js'
import { parseJsonBody, rawBody, readCountedBody } from './read-body.js'
import type { Reply, RequestContext, Route } from './route.js'
import { RouteMatcher } from './route-matcher.js'

export const HTTP_API_VERSION = '1.0.0'

export interface HttpServerHandle {
  address: { host: string; port: number }
  /**
   * Stops accepting connections (idle keep-alive ones are closed). Requests on
   * the open ones are still served, each answer closing its connection, and
   * /ready answers 503. The first step of a graceful stop.
   */
  stopAccepting(): void
  /** Stops accepting, releases long-polls, lets in-flight requests finish (up to closeGraceMs) and resolves once connections are closed. */
  close(): Promise<void>
}

export async function startHttpServer(node: TroupeNode, options: HttpServerOptions): Promise<HttpServerHandle> {
  const config = resolveHttpServerOptions(options)
  const log = config.logger?.child({ actor: 'http' })
  const accessLog = log !== undefined && log.isLevelEnabled('debug') ? log : undefined
  const metrics = new HttpMetrics(node)
  const longPolls = new LongPolls(node, config.longPollMax, (held) => metrics.longPolls.set(held))
  const shutdown = new AbortController()
  const auth = bearerAuth(config.token)
  const limiter = config.rateLimit !== undefined ? new RateLimiter(config.rateLimit) : undefined
  let closing = false
  // Stopped accepting (and so too once closing): requests are still served,
  // but each answer closes its connection and /ready says 503, so clients
  // and load balancers move on.
  let draining = false
  let boundAddress = { host: config.host, port: config.port }
  const addresses = () => ({
    http: config.advertise.http ?? `${boundAddress.host}:${boundAddress.port}`,
    tcp: config.advertise.tcp ?? null,
    peer: config.advertise.peer ?? null,
  })
  let openApiText: string | undefined
  const routes: Route[] = [
    ...nodeRoutes(node, metrics, addresses, () => draining, () => (openApiText ??= JSON.stringify(buildOpenApi(routes, HTTP_API_VERSION)))),
    ...queueRoutes(node, longPolls),
    ...kvRoutes(node),
  ]
  const matcher = new RouteMatcher(routes)

  let inFlight = 0
  let onIdle: (() => void) | undefined

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startNs = process.hrtime.bigint()
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const queryAt = url.indexOf('?')
    const path = queryAt < 0 ? url : url.slice(0, queryAt)
    let routeLabel = 'unmatched'
    let clientGone: AbortController | undefined
    let signal: AbortSignal | undefined
    let query: URLSearchParams | undefined
    inFlight++
    metrics.inFlight.inc()
    res.once('close', () => {
      inFlight--
      metrics.inFlight.dec()
      if (!res.writableFinished) clientGone?.abort()
      const durationSec = Number(process.hrtime.bigint() - startNs) / 1e9
      metrics.observe(routeLabel, method, res.statusCode, durationSec)
      accessLog?.debug(
        { method, path, route: routeLabel, status: res.statusCode, durationMs: Math.round(durationSec * 1e6) / 1e3, remote: req.socket.remoteAddress, finished: res.writableFinished },
        'http request',
      )
      if (inFlight === 0) onIdle?.()
    })
    try {
      const { route, params } = matcher.match(method, path)
      routeLabel = route.pattern
      if (closing) throw new HttpError('UNAVAILABLE', 'the server is shutting down', { retryAfterSec: 1 })
      if (route.auth) auth(req.headers.authorization)
      // Probes (/health, /ready) and scrapes are never limited: they must see an overloaded node.
      if (limiter !== undefined && route.pattern.startsWith('/v1')) limiter.check(req.socket.remoteAddress ?? '', params.name, Date.now())
      const ctx: RequestContext = {
        req,
        params,
        get query() {
          return (query ??= new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1)))
        },
        get signal() {
          if (signal === undefined) {
            clientGone = new AbortController()
            signal = AbortSignal.any([clientGone.signal, shutdown.signal])
          }
          return signal
        },
        closing: () => closing,
        readJson: () => readCountedBody(req, config.bodyLimitBytes, node.writes, parseJsonBody),
        readRaw: (limitBytes) => readCountedBody(req, Math.min(limitBytes, config.bodyLimitBytes), node.writes, rawBody),
      }
      writeReply(res, await route.handler(ctx), draining)
    } catch (caught) {
      const error = toHttpError(caught)
      if (error.code === 'INTERNAL') log?.error({ err: caught, method, path }, 'request failed unexpectedly')
      // An oversize body is not read to its end: the connection cannot be reused.
      sendError(res, error, draining || error.code === 'PAYLOAD_TOO_LARGE')
    }
  }

  const server = createServer(
    {
      keepAlive: true,
      noDelay: true,
      // Long-polls hold a request up to 20 s, and a commit may take the node's request timeout on top.
      requestTimeout: 120_000,
      headersTimeout: config.keepAliveTimeoutMs + 1_000,
      keepAliveTimeout: config.keepAliveTimeoutMs,
    },
    (req, res) => void handle(req, res),
  )
  server.maxConnections = config.connectionsMax
  server.maxRequestsPerSocket = 0
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) {
      const body = JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: `malformed HTTP request (${error.code ?? 'parse error'})` } })
      socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    } else socket.destroy()
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  boundAddress = { host: bound.address, port: bound.port }
  node.announce({ http: addresses().http })
  log?.info({ http: `${bound.address}:${bound.port}`, auth: config.token !== undefined, rateLimit: limiter !== undefined }, 'http api listening')

  let listenerClosed: Promise<void> | undefined
  const stopListening = (): Promise<void> => (listenerClosed ??= new Promise<void>((resolve) => server.close(() => resolve())))
  let closed: Promise<void> | undefined
  const close = () =>
    (closed ??= (async () => {
      closing = true
      draining = true
      shutdown.abort()
      const serverClosed = stopListening()
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([new Promise<void>((resolve) => (onIdle = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, config.closeGraceMs)))])
        clearTimeout(timer)
      }
      server.closeAllConnections()
      await serverClosed
      // Abandoned receives were cancelled in their shards; release what they got while the node still runs.
      await longPolls.drain(config.closeGraceMs)
      log?.info('http api closed')
    })())

  const stopAccepting = () => {
    draining = true
    void stopListening()
  }
  return { address: boundAddress, stopAccepting, close }
}

function writeReply(res: ServerResponse, reply: Reply, closeConnection: boolean): void {
  if (res.destroyed) return
  const headers: Record<string, string | number> = { ...reply.headers }
  if (closeConnection) headers['connection'] = 'close'
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers)
    res.end()
    return
  }
  headers['content-type'] = reply.contentType ?? 'application/octet-stream'
  headers['content-length'] = typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.byteLength
  res.writeHead(reply.status, headers)
  res.end(reply.body)
}
