// The HTTP API (CONTRACT §3–§4) in front of a TroupeNode; see README.md.
export { startHttpServer, HTTP_API_VERSION, type HttpServerHandle } from './http-server.js'
export type { HttpServerOptions } from './http-options.js'
export { rateLimitFromEnv, type RateLimitOptions } from './rate-limiter.js'
export { parseRateSpec, type RateSpec } from './token-bucket.js'
export { HttpError, type HttpErrorCode } from './http-error.js'
export type { OpenApiDocument } from './openapi.js'
