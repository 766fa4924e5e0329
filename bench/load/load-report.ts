// The human table and the JSON result (CONTRACT §6) of a load run.
import { loadavg } from 'node:os'
import { formatTable, type BenchResult, type Measurement } from '../lib/report.js'
import type { LoadSettings } from './load-settings.js'
import type { MeasuredRun } from './measure-load.js'

const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits

export function loadAverage(): number[] {
  return loadavg().map((n) => round(n, 2))
}

export function loadResult(settings: LoadSettings, run: MeasuredRun, context: { startedNodes: boolean; loadAverageBefore: number[] }): BenchResult {
  const measured = settings.durationMs / 1000
  return {
    bench: 'load',
    scenario: settings.scenario,
    transport: settings.transport,
    nodes: settings.targets.length > 0 ? settings.targets.length : settings.nodeCount,
    startedNodes: context.startedNodes,
    mode: settings.mode,
    concurrency: settings.concurrency,
    ...(settings.mode === 'open' ? { ratePerSec: settings.ratePerSec } : {}),
    durationS: measured,
    warmupS: settings.warmupMs / 1000,
    sync: settings.sync,
    opsPerSec: round(run.opsPerSec),
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    p999Ms: run.p999Ms,
    maxMs: run.maxMs,
    itemsPerSec: round(run.itemsPerSec),
    ops: run.ops,
    errors: run.errors,
    errorsByCode: run.errorsByCode,
    dropped: run.dropped,
    issued: run.issued,
    ...(run.maxInFlight !== undefined ? { maxInFlight: run.maxInFlight } : {}),
    operations: run.kinds.map((k) => ({ kind: k.kind, ops: k.ops, opsPerSec: round(k.ops / measured), itemsPerSec: round(k.items / measured), p50Ms: k.p50Ms, p99Ms: k.p99Ms, p999Ms: k.p999Ms, maxMs: k.maxMs })),
    scenarioStats: run.scenarioStats,
    clientCpuPercent: run.clientCpuPercent,
    loadAverage: { before: context.loadAverageBefore, after: loadAverage() },
    series: run.series,
  }
}

export function formatLoadReport(settings: LoadSettings, run: MeasuredRun, result: BenchResult): string {
  const measured = settings.durationMs / 1000
  const rows: Measurement[] = run.kinds.map((k) => ({ name: k.kind, opsPerSec: k.ops / measured, p50Ms: k.p50Ms, p99Ms: k.p99Ms, p999Ms: k.p999Ms, maxMs: k.maxMs }))
  if (run.kinds.length > 1) rows.push({ name: 'all', opsPerSec: run.opsPerSec, p50Ms: run.p50Ms, p99Ms: run.p99Ms, p999Ms: run.p999Ms, maxMs: run.maxMs })
  const pacing = settings.mode === 'open' ? `open loop at ${settings.ratePerSec} ops/s (at most ${settings.concurrency} in flight)` : `closed loop, ${settings.concurrency} workers`
  const where = settings.targets.length > 0 ? `target ${settings.targets.join(',')}` : `${settings.nodeCount} node${settings.nodeCount > 1 ? 's' : ''} started by the bench, sync=${settings.sync}`
  const errors = Object.entries(run.errorsByCode).map(([code, n]) => `${code}: ${n}`).join(', ')
  const stats = Object.entries(run.scenarioStats).map(([name, n]) => `${name} ${n}`).join(', ')
  const lines = [
    `load ${settings.scenario} over ${settings.transport}, ${pacing}, ${where}, ${measured} s after ${settings.warmupMs / 1000} s warm-up`,
    formatTable(rows),
    '',
    `items (messages or keys): ${Math.round(run.itemsPerSec).toLocaleString('en-US')}/s; errors ${run.errors}${errors ? ` (${errors})` : ''}` +
      (settings.mode === 'open' ? `; dropped ${run.dropped} (cap reached); most in flight ${run.maxInFlight ?? 0}` : ''),
    `${stats ? `${stats}; ` : ''}load generator CPU ${run.clientCpuPercent}% of one core; load average ${JSON.stringify((result['loadAverage'] as { before: number[] }).before)} before, ${JSON.stringify(loadAverage())} after`,
  ]
  return lines.join('\n') + '\n'
}
