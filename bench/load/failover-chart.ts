// The failover run as a chart: throughput and errors per second above, p99
// per second below, dashed markers at the kill and the restart.
import type { SecondFigures } from './second-buckets.js'
import { renderStackedChart, type ChartMarker } from './svg-chart.js'

export interface FailoverEvents {
  killAtSec: number
  victimId: number
  restartAtSec?: number
  readyAtSec?: number
}

export function failoverChart(series: SecondFigures[], events: FailoverEvents, subtitle: string): string {
  // A bucket's figures describe the second it covers: plot them at its middle.
  const at = (b: SecondFigures) => b.second + 0.5
  const markers: ChartMarker[] = [{ x: events.killAtSec, label: `SIGKILL node ${events.victimId}`, color: '#c62828' }]
  if (events.restartAtSec !== undefined) markers.push({ x: events.restartAtSec, label: `restart node ${events.victimId}`, color: '#2e7d32' })
  if (events.readyAtSec !== undefined && events.readyAtSec - (events.restartAtSec ?? 0) >= 0.5) {
    markers.push({ x: events.readyAtSec, label: 'ready', color: '#558b2f' })
  }
  return renderStackedChart({
    title: 'Troupe failover: 3 nodes, leader of most shards killed and restarted',
    subtitle,
    xLabel: 'seconds since the start of measurement (one-second buckets)',
    xMax: Math.max(1, series.length),
    panels: [
      {
        title: 'throughput',
        yLabel: 'operations / s',
        lines: [
          { label: 'acknowledged ops/s', color: '#1565c0', points: series.map((b) => [at(b), b.ops] as const) },
          { label: 'errors/s', color: '#c62828', points: series.map((b) => [at(b), b.errors] as const) },
        ],
      },
      {
        title: 'latency',
        yLabel: 'p99 ms',
        // A second in which nothing finished has no p99: it is left out rather than drawn as 0.
        lines: [{ label: 'p99 of the second', color: '#6a1b9a', points: series.filter((b) => b.ops > 0).map((b) => [at(b), b.p99Ms] as const) }],
      },
    ],
    markers,
  })
}
