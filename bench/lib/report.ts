// Shared output of every benchmark (CONTRACT §6): a human table by default,
// and with --json the last stdout line is one JSON object.
import * as hdr from 'hdr-histogram-js'
import { LoadError } from '../load/load-error.js'

export interface LatencySummary {
  p50Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
}

export interface Measurement extends Partial<LatencySummary> {
  name: string
  opsPerSec: number
  /** CPU time of the bench's process per operation, µs (only where the system under test runs in it). */
  cpuUsPerOp?: number
}

export interface BenchResult {
  bench: string
  opsPerSec: number
  p50Ms?: number
  p99Ms?: number
  baseline?: Measurement
  [more: string]: unknown
}

export interface BenchArgs {
  json: boolean
  /** Remaining `--key value` / `--flag` options after the bench name. */
  options: Map<string, string | true>
}

export type BenchMain = (args: BenchArgs) => Promise<BenchResult>

/** A latency recorder in microseconds, 1 µs to 60 s, 3 significant digits. */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
}

/** Summarises a histogram recorded in microseconds as milliseconds. */
export function summarize(histogram: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000
  return {
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
  }
}

export function formatTable(rows: Measurement[]): string {
  const withCpu = rows.some((r) => r.cpuUsPerOp !== undefined)
  const header = ['name', 'ops/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', ...(withCpu ? ['CPU µs/op'] : [])]
  const cell = (n: number | undefined) => (n === undefined ? '-' : String(n))
  const body = rows.map((r) => [
    r.name,
    Math.round(r.opsPerSec).toLocaleString('en-US'),
    cell(r.p50Ms),
    cell(r.p99Ms),
    cell(r.p999Ms),
    cell(r.maxMs),
    ...(withCpu ? [cell(r.cpuUsPerOp)] : []),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

/** A positive number from `--name value`, else `fallback`; `integer` also requires a whole number. */
/** `--name` given one of `allowed`, else `fallback`; anything else is an INVALID_OPTION naming the choices. */
export function choiceOption<T extends string>(options: Map<string, string | true>, name: string, allowed: readonly T[], fallback: T): T {
  const raw = options.get(name)
  if (raw === undefined) return fallback
  if (raw === true || !(allowed as readonly string[]).includes(raw)) throw new LoadError('INVALID_OPTION', `--${name} must be one of ${allowed.join('|')}, got ${String(raw)}`)
  return raw as T
}

export function numberOption(options: Map<string, string | true>, name: string, fallback: number, integer = false): number {
  const raw = options.get(name)
  if (raw === undefined || raw === true) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new LoadError('INVALID_OPTION', `--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`)
  }
  return value
}
