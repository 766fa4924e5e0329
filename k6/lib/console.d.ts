// k6 provides `console` (log, info, debug, warn, error: printed by k6 with
// the level), but @types/k6 does not declare it and this project's lib has
// no DOM; so only what k6 documents is declared here.
declare global {
  interface K6Console {
    log(...values: unknown[]): void
    info(...values: unknown[]): void
    debug(...values: unknown[]): void
    warn(...values: unknown[]): void
    error(...values: unknown[]): void
  }
  var console: K6Console
}

export {}
