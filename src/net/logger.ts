// The logger used when the caller passes none: the network layer never reads
// LOG_LEVEL itself (the node hands every component a child of its logger).
import { pino, type Logger } from 'pino'

let silent: Logger | undefined

export function silentLogger(): Logger {
  silent ??= pino({ level: 'silent' })
  return silent
}
