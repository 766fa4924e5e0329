// `npm run bench -- peers [--only nats,bullmq,etcd,redis,troupe] [--duration S]
//   [--warmup S] [--clients C] [--size BYTES] [--transport tcp|http] [--install]
//   [--smoke] [--json]`
//
// Troupe next to the systems people would otherwise pick, in one run on this
// machine: each system is started on 127.0.0.1 (free ports, a temp dir),
// loaded with the same callers and payload, stopped and removed before the
// next one starts (never two at once). See bench/peers/README.md.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BenchMain, BenchResult } from './lib/report.js'
import { runBullmq } from './peers/bullmq-peer.js'
import { compare, type ComparisonRow } from './peers/comparison.js'
import { runEtcd } from './peers/etcd-peer.js'
import { runNats } from './peers/nats-peer.js'
import { parsePeersOptions, type PeersOptions, type SystemName } from './peers/options.js'
import { PeerBenchError } from './peers/peer-error.js'
import { runRedis } from './peers/redis-peer.js'
import { formatComparison } from './peers/report-table.js'
import { runTroupe } from './peers/troupe-peer.js'
import type { PeerMeasurement, SystemRun } from './peers/workload.js'

const RUNS: Record<SystemName, SystemRun> = { nats: runNats, bullmq: runBullmq, etcd: runEtcd, redis: runRedis, troupe: runTroupe }

export interface SystemFailure {
  system: SystemName
  code: string
  message: string
}

function log(line: string): void {
  process.stderr.write(`[peers ${new Date().toISOString().slice(11, 19)}] ${line}\n`)
}

/** The CONTRACT §6 object: the headline is Troupe's single enqueue; every row is in `rows`. */
/** The 1-minute load average, to 2 decimals: on a shared 2-core machine it says how quiet the run was. */
function loadAverage1m(): number {
  return Math.round(loadavg()[0]! * 100) / 100
}

export function peersResult(
  options: PeersOptions,
  troupe: PeerMeasurement[],
  rows: ComparisonRow[],
  failures: SystemFailure[],
  loadAverage: { start: number; end: number },
): BenchResult {
  const headline = troupe.find((m) => m.workload === 'enqueue-1')?.result
  const result: BenchResult = {
    bench: 'peers',
    opsPerSec: headline?.opsPerSec ?? 0,
    clients: options.clients,
    sizeBytes: options.sizeBytes,
    warmupS: options.warmupMs / 1000,
    durationS: options.durationMs / 1000,
    systems: options.systems,
    transport: options.transport,
    loadAverage1m: loadAverage,
    rows,
    failures,
  }
  if (headline !== undefined) {
    result.p50Ms = headline.p50Ms
    result.p99Ms = headline.p99Ms
  }
  return result
}

export const main: BenchMain = async (args) => {
  const options = parsePeersOptions(args.options, args.json)
  const root = await mkdtemp(join(tmpdir(), 'troupe-peers-'))
  // Children are SIGKILLed by the launcher's exit hook; the data goes with them.
  const removeRoot = () => rmSync(root, { recursive: true, force: true })
  process.once('exit', removeRoot)
  const onInterrupt = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onInterrupt)
  process.once('SIGTERM', onInterrupt)
  log(`systems: ${options.systems.join(', ')}; ${options.clients} callers, ${options.sizeBytes}-byte payloads, ${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s per row; Troupe over ${options.transport}`)
  const loadAtStart = loadAverage1m()
  const peers: PeerMeasurement[] = []
  const troupe: PeerMeasurement[] = []
  const failures: SystemFailure[] = []
  try {
    for (const system of options.systems) {
      const dataDir = join(root, system)
      await mkdir(dataDir, { recursive: true })
      log(`${system}: starting`)
      try {
        const measured = await RUNS[system]({ ...options, dataDir, log })
        ;(system === 'troupe' ? troupe : peers).push(...measured)
        log(`${system}: done`)
      } catch (error) {
        const code = error instanceof PeerBenchError ? error.code : 'FAILED'
        const message = error instanceof Error ? error.message : String(error)
        failures.push({ system, code, message })
        log(`${system}: failed (${code}): ${message}`)
      } finally {
        await rm(dataDir, { recursive: true, force: true })
      }
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt)
    process.removeListener('SIGTERM', onInterrupt)
    await rm(root, { recursive: true, force: true })
    process.removeListener('exit', removeRoot)
  }
  const rows = compare(peers, troupe)
  const loadAverage = { start: loadAtStart, end: loadAverage1m() }
  process.stdout.write(`${formatComparison(rows)}\n`)
  process.stdout.write(
    `\n${options.clients} callers, ${options.sizeBytes}-byte payloads, ${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s per row; ` +
      `load average (1 min) ${loadAverage.start} at the start, ${loadAverage.end} at the end\n`,
  )
  for (const failure of failures) process.stdout.write(`FAILED ${failure.system} (${failure.code}): ${failure.message.split('\n')[0]}\n`)
  if (failures.length > 0) process.exitCode = 1
  return peersResult(options, troupe, rows, failures, loadAverage)
}
