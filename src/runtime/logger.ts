// The runtime's default logger: JSON lines on stderr at LOG_LEVEL (default info).
import { pino, type Logger } from 'pino'

export function createDefaultLogger(name: string): Logger {
  return pino({ name, level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination({ dest: 2, sync: true }))
}
