// `npm run bench -- load --scenario ingest|drain|mixed|kv --transport http|tcp
//   --nodes 1|3 [--mode closed|open] [--concurrency C] [--rate R]
//   [--duration S] [--warmup S] [--target ADDR[,ADDR...]] [--progress] [--json]`
//
// The k6 scenarios as a Node load generator, against node processes this
// bench starts (or running nodes given with --target). See bench/load/README.md.
import { randomBytes } from 'node:crypto'
import type { BenchMain } from './lib/report.js'
import { createTransport } from './load/create-transport.js'
import { LocalCluster } from './load/local-cluster.js'
import { formatLoadReport, loadAverage, loadResult } from './load/load-report.js'
import { parseLoadSettings } from './load/load-settings.js'
import { measureLoad } from './load/measure-load.js'
import { createScenario } from './load/scenarios.js'

export const main: BenchMain = async ({ json, options }) => {
  const settings = parseLoadSettings(options)
  const log = (line: string) => process.stderr.write(`${line}\n`)
  const loadAverageBefore = loadAverage()
  let cluster: LocalCluster | undefined
  let addresses = settings.targets
  if (addresses.length === 0) {
    log(`starting ${settings.nodeCount} node process${settings.nodeCount > 1 ? 'es' : ''} (sync=${settings.sync}, ${settings.shards} shards)`)
    cluster = await LocalCluster.start({
      count: settings.nodeCount,
      sync: settings.sync,
      shards: settings.shards,
      reads: settings.reads,
      ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    })
    addresses = cluster.nodes.map((node) => (settings.transport === 'tcp' ? node.tcp : node.http))
  }
  try {
    const transport = await createTransport(settings.transport, { addresses, concurrency: settings.concurrency, token: settings.token, requestTimeoutMs: settings.requestTimeoutMs })
    try {
      const scenario = createScenario(settings.scenario, { ...settings.scenarioSettings, runId: randomBytes(4).toString('hex') })
      const run = await measureLoad({
        scenario,
        transport,
        mode: settings.mode,
        concurrency: settings.concurrency,
        ratePerSec: settings.ratePerSec,
        warmupMs: settings.warmupMs,
        durationMs: settings.durationMs,
        errorBackoffMs: settings.errorBackoffMs,
        progress: settings.progress ? process.stderr : undefined,
        log,
      })
      const result = loadResult(settings, run, { startedNodes: cluster !== undefined, loadAverageBefore })
      if (cluster !== undefined && cluster.unexpectedExits.length > 0) result['unexpectedNodeExits'] = cluster.unexpectedExits
      if (!json) process.stdout.write(formatLoadReport(settings, run, result))
      return result
    } finally {
      await transport.close()
    }
  } finally {
    await cluster?.stop()
  }
}
