// `npm run bench -- failover [--duration 30] [--warmup 5] [--kill-at 10] [--restart-after 5]
//   [--signal SIGKILL|SIGTERM] [--transport http|tcp] [--concurrency 32] [--queues 16] [--reads safe|lease-based] [--out DIR] [--progress] [--json]`
//
// Three node processes under steady ingest load (closed loop). At --kill-at
// seconds the node that leads the most shards (GET /v1/cluster) gets
// SIGKILL (a crash), or SIGTERM with `--signal SIGTERM` (a graceful stop, as
// in a rolling restart); --restart-after seconds later it starts again on
// the same data directory. One-second buckets of ops/s, errors and p99 are written as
// bench/results/failover.svg and failover.json, so the dip and the recovery
// can be seen.
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { choiceOption, formatTable, numberOption, type BenchMain, type Measurement } from './lib/report.js'
import { createTransport } from './load/create-transport.js'
import { failoverChart, type FailoverEvents } from './load/failover-chart.js'
import { failoverFigures } from './load/failover-figures.js'
import { LoadError } from './load/load-error.js'
import { LocalCluster } from './load/local-cluster.js'
import { loadAverage } from './load/load-report.js'
import { parseLoadSettings } from './load/load-settings.js'
import { measureLoad } from './load/measure-load.js'
import { shardForQueue } from '../src/cluster/placement.js'
import { ingestQueueNames } from './load/ingest-scenario.js'
import { createScenario } from './load/scenarios.js'
import { busiestLeader, fetchClusterViews, leadersFromViews } from './load/shard-leaders.js'
import type { RunWindow } from './load/window.js'

const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url))

function sleepUntil(atMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - performance.now())))
}

const seconds = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / 10) / 100

export const main: BenchMain = async ({ json, options }) => {
  // 16 queues: the load spans the shards, so the kill hits the part of it that the victim led.
  // 5 s of warm-up: throughput was seen to climb for several seconds after start (JIT, leaders settling).
  const defaults = new Map<string, string | true>([['duration', '30'], ['warmup', '5'], ['nodes', '3'], ['scenario', 'ingest'], ['queues', '16']])
  for (const [key, value] of options) if (key !== 'nodes' && key !== 'scenario' && key !== 'mode') defaults.set(key, value)
  const settings = parseLoadSettings(defaults)
  const killAtSec = numberOption(options, 'kill-at', 10)
  const restartAfterSec = numberOption(options, 'restart-after', 5)
  const signal = choiceOption(options, 'signal', ['SIGKILL', 'SIGTERM'] as const, 'SIGKILL')
  const durationSec = settings.durationMs / 1000
  if (killAtSec + restartAfterSec >= durationSec) {
    throw new LoadError('INVALID_OPTION', `--kill-at + --restart-after (${killAtSec + restartAfterSec} s) must be less than --duration (${durationSec} s)`)
  }
  const outDir = typeof options.get('out') === 'string' ? (options.get('out') as string) : DEFAULT_OUT_DIR
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const loadAverageBefore = loadAverage()

  log(`starting 3 node processes (sync=${settings.sync}, ${settings.shards} shards, reads ${settings.reads})`)
  const cluster = await LocalCluster.start({
    count: 3,
    sync: settings.sync,
    shards: settings.shards,
    reads: settings.reads,
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
  })
  const httpAddresses = cluster.nodes.map((node) => node.http)
  const events: Partial<FailoverEvents> & { shardsLed?: number; shardCount?: number; queuesOnVictim?: number } = {}
  let longestStallAfterKillMs = 0
  try {
    const transport = await createTransport(settings.transport, {
      addresses: cluster.nodes.map((node) => (settings.transport === 'tcp' ? node.tcp : node.http)),
      concurrency: settings.concurrency,
      token: settings.token,
      requestTimeoutMs: settings.requestTimeoutMs,
    })
    try {
      const runId = randomBytes(4).toString('hex')
      const queueNames = ingestQueueNames(runId, settings.scenarioSettings.queues)
      const base = createScenario('ingest', { ...settings.scenarioSettings, runId })
      // The longest time without any acknowledged operation after the kill: finer than the one-second buckets.
      let killedAtMs: number | undefined
      let lastSuccessMs = 0
      const scenario = {
        ...base,
        async operate(...args: Parameters<typeof base.operate>) {
          const result = await base.operate(...args)
          const nowMs = performance.now()
          if (killedAtMs !== undefined) longestStallAfterKillMs = Math.max(longestStallAfterKillMs, nowMs - Math.max(lastSuccessMs, killedAtMs))
          lastSuccessMs = nowMs
          return result
        },
      }
      let chaos: Promise<void> = Promise.resolve()
      const runChaos = async (window: RunWindow) => {
        await sleepUntil(window.measureFromMs + killAtSec * 1000)
        const views = await fetchClusterViews(httpAddresses, settings.token)
        const leaders = leadersFromViews(views)
        const victim = busiestLeader(leaders)
        if (victim === undefined) throw new LoadError('NODE_PROCESS', 'no node reported a shard leader at the time of the kill')
        killedAtMs = performance.now()
        await cluster.kill(victim.id, signal)
        const queuesOnVictim = queueNames.filter((queue) => leaders.get(shardForQueue(queue, leaders.size)) === victim.id).length
        Object.assign(events, { victimId: victim.id, shardsLed: victim.shardsLed, shardCount: leaders.size, queuesOnVictim, killAtSec: seconds(window.measureFromMs, killedAtMs) })
        log(`${signal} node ${victim.id} (led ${victim.shardsLed} of ${leaders.size} shards, ${queuesOnVictim} of the ${queueNames.length} queues) at ${events.killAtSec} s`)
        await sleepUntil(killedAtMs + restartAfterSec * 1000)
        const restartMs = performance.now()
        events.restartAtSec = seconds(window.measureFromMs, restartMs)
        await cluster.restart(victim.id)
        events.readyAtSec = seconds(window.measureFromMs, performance.now())
        log(`node ${victim.id} restarted at ${events.restartAtSec} s, ready line at ${events.readyAtSec} s`)
      }
      const run = await measureLoad({
        scenario,
        transport,
        mode: 'closed',
        concurrency: settings.concurrency,
        ratePerSec: settings.ratePerSec,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        errorBackoffMs: settings.errorBackoffMs,
        progress: settings.progress ? process.stderr : undefined,
        log,
        onWindow: (window) => {
          chaos = runChaos(window)
          // Reported after the run; keep an early failure from being an unhandled rejection meanwhile.
          chaos.catch(() => {})
        },
      })
      await chaos
      const killAt = events.killAtSec!
      const figures = failoverFigures(run.series, killAt, events.restartAtSec)
      const stall = Math.round(longestStallAfterKillMs)
      const subtitle =
        `ingest over ${settings.transport} into ${settings.scenarioSettings.queues} queues, closed loop, ${settings.concurrency} workers, sync=${settings.sync}, ${settings.shards} shards; ` +
        `${signal} to node ${events.victimId}, which led ${events.shardsLed} of ${events.shardCount} shards (${events.queuesOnVictim} of the queues)`
      const svg = failoverChart(run.series, events as FailoverEvents, subtitle)
      const result = {
        bench: 'failover',
        transport: settings.transport,
        concurrency: settings.concurrency,
        queues: settings.scenarioSettings.queues,
        sync: settings.sync,
        shards: settings.shards,
        durationS: durationSec,
        warmupS: settings.warmupMs / 1000,
        opsPerSec: Math.round(run.opsPerSec),
        p50Ms: run.p50Ms,
        p99Ms: run.p99Ms,
        p999Ms: run.p999Ms,
        maxMs: run.maxMs,
        errors: run.errors,
        errorsByCode: run.errorsByCode,
        signal,
        victim: { id: events.victimId, shardsLed: events.shardsLed, shardCount: events.shardCount, queuesLed: events.queuesOnVictim },
        killAtS: killAt,
        restartAtS: events.restartAtSec,
        readyAtS: events.readyAtSec,
        ...figures,
        longestStallAfterKillMs: stall,
        clientCpuPercent: run.clientCpuPercent,
        loadAverage: { before: loadAverageBefore, after: loadAverage() },
        unexpectedNodeExits: cluster.unexpectedExits,
        series: run.series.map((b) => ({ second: b.second, ops: b.ops, errors: b.errors, p50Ms: b.p50Ms, p99Ms: b.p99Ms, maxMs: b.maxMs })),
      }
      await mkdir(outDir, { recursive: true })
      const svgPath = join(outDir, 'failover.svg')
      const jsonPath = join(outDir, 'failover.json')
      await writeFile(svgPath, svg)
      await writeFile(jsonPath, JSON.stringify(result, null, 2) + '\n')
      if (!json) {
        const rows: Measurement[] = run.kinds.map((k) => ({ name: k.kind, opsPerSec: k.ops / durationSec, p50Ms: k.p50Ms, p99Ms: k.p99Ms, p999Ms: k.p999Ms, maxMs: k.maxMs }))
        const recovery = (s: number | undefined) => (s === undefined ? 'not within the run' : `${s} s`)
        process.stdout.write(
          [
            `failover: ${subtitle}`,
            formatTable(rows),
            '',
            `${signal} to node ${events.victimId} at ${killAt} s, restarted at ${events.restartAtSec} s (ready line at ${events.readyAtSec} s)`,
            `baseline ${figures.baselineOpsPerSec} ops/s; ${figures.dipSeconds} s below half of it; back at >= 80% ${recovery(figures.recoverySeconds)} after the kill, ` +
              `${recovery(figures.recoveryAfterRestartSeconds)} after the restart`,
            `longest time without an acknowledged operation after the kill: ${stall} ms; lowest second ${figures.minOpsPerSecAfterKill} ops; highest p99 ${figures.maxP99MsAfterKill} ms`,
            `errors ${run.errors} ${JSON.stringify(run.errorsByCode)}; load generator CPU ${run.clientCpuPercent}%; load average ${JSON.stringify(loadAverageBefore)} before, ${JSON.stringify(loadAverage())} after`,
            `wrote ${svgPath}`,
            `wrote ${jsonPath}`,
          ].join('\n') + '\n',
        )
      }
      return result
    } finally {
      await transport.close()
    }
  } finally {
    await cluster.stop()
  }
}
