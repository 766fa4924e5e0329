// Prometheus text exposition (format 0.0.4) of values the node already
// counts elsewhere (the WAL writer's thread, the actors' cells): they are
// read on each scrape and written out as counters, gauges and histograms,
// which prom-client's own metric types cannot be set from.
import type { BucketCounts } from '../wal/index.js'

export type Labels = Record<string, string>

export interface Sample {
  labels: Labels
  value: number
}

export function gaugeText(name: string, help: string, samples: readonly Sample[]): string {
  return family(name, help, 'gauge', samples.map((s) => line(name, s.labels, s.value)))
}

/** `name` should end in `_total`. */
export function counterText(name: string, help: string, samples: readonly Sample[]): string {
  return family(name, help, 'counter', samples.map((s) => line(name, s.labels, s.value)))
}

/** A histogram from per-bucket counts; `scale` converts the measured unit (e.g. ms → s: 0.001). */
export function histogramText(name: string, help: string, buckets: BucketCounts, scale = 1): string {
  const lines: string[] = []
  let cumulative = 0
  for (const [i, bound] of buckets.upperBounds.entries()) {
    cumulative += buckets.counts[i] ?? 0
    lines.push(line(`${name}_bucket`, { le: formatNumber(bound * scale) }, cumulative))
  }
  lines.push(line(`${name}_bucket`, { le: '+Inf' }, buckets.count))
  lines.push(line(`${name}_sum`, {}, buckets.sum * scale))
  lines.push(line(`${name}_count`, {}, buckets.count))
  return family(name, help, 'histogram', lines)
}

function family(name: string, help: string, type: string, lines: string[]): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n${lines.map((l) => `${l}\n`).join('')}`
}

function line(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([key, v]) => `${key}="${escapeLabel(v)}"`)
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  // Bounds such as 0.125 * 0.001 print without float noise.
  return String(Number(value.toPrecision(12)))
}
