// redis.conf for a bench Redis: loopback only, AOF on with the fsync policy
// under test, RDB snapshots off (so no fork competes for the 2 cores
// mid-window), everything else at Redis's defaults.

export type AppendFsync = 'always' | 'everysec'

export interface RedisConfigOptions {
  port: number
  dir: string
  appendfsync: AppendFsync
}

/** Quotes a value the way redis.conf reads it. */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

export function redisConfig(options: RedisConfigOptions): string {
  if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) throw new RangeError(`redis port out of range: ${options.port}`)
  return [
    'bind 127.0.0.1',
    `port ${options.port}`,
    'protected-mode yes',
    'daemonize no',
    `dir ${quoted(options.dir)}`,
    'logfile ""',
    'save ""',
    'appendonly yes',
    `appendfsync ${options.appendfsync}`,
    // BullMQ requires that Redis never evicts its keys (also Redis's default).
    'maxmemory-policy noeviction',
    '',
  ].join('\n')
}

/** The line redis-server prints once it accepts clients. */
export const REDIS_READY_LINE = /Ready to accept connections/
