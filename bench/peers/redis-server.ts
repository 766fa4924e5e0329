// One redis-server process with AOF under a given fsync policy, used by the
// Redis rows and the BullMQ rows.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BINARIES, binaryVersion, ensureBinaries } from './binaries.js'
import { freePorts } from './free-ports.js'
import { launch, type ManagedProcess } from './process-launcher.js'
import { redisConfig, REDIS_READY_LINE, type AppendFsync } from './redis-config.js'
import type { RunContext } from './workload.js'

export interface RunningRedis {
  port: number
  /** e.g. `redis-server 7.0.15`. */
  version: string
  process: ManagedProcess
}

const READY_TIMEOUT_MS = 30_000

export async function startRedis(context: RunContext, appendfsync: AppendFsync, name: string): Promise<RunningRedis> {
  const paths = await ensureBinaries([BINARIES.redis], context)
  const binary = paths.get(BINARIES.redis.command)!
  const dir = join(context.dataDir, name)
  await mkdir(dir, { recursive: true })
  const [port] = await freePorts(1)
  const configPath = join(dir, 'redis.conf')
  await writeFile(configPath, redisConfig({ port: port!, dir, appendfsync }))
  const managed = launch({ name, command: binary, args: [configPath], readyLine: REDIS_READY_LINE, readyTimeoutMs: READY_TIMEOUT_MS })
  try {
    await managed.ready()
  } catch (error) {
    await managed.stop()
    throw error
  }
  return { port: port!, version: binaryVersion(binary), process: managed }
}
