// The human table of the peers benchmark: one line per comparison, the
// conditions of each side, and notes where a figure needs a caveat.
import type { ComparisonRow } from './comparison.js'
import { WORKLOAD_LABELS } from './workload.js'

export function formatOps(opsPerSec: number | undefined): string {
  return opsPerSec === undefined ? '-' : Math.round(opsPerSec).toLocaleString('en-US')
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-'
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined ? '-' : `${ratio.toFixed(2)}x`
}

function alignedTable(header: string[], body: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const line = (cols: string[]) => cols.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)]
}

/** `notes` lists, under the table, every caveat and the conditions text, keyed by row number. */
export function formatComparison(rows: ComparisonRow[]): string {
  const header = ['#', 'workload', 'peer', 'conditions', 'peer ops/s', 'p99 ms', 'Troupe ops/s', 'p99 ms', 'Troupe/peer']
  const body = rows.map((row, i) => [
    String(i + 1),
    WORKLOAD_LABELS[row.workload],
    row.peer ?? '-',
    row.peerSummary ?? '-',
    formatOps(row.peerFigures?.opsPerSec),
    formatMs(row.peerFigures?.p99Ms),
    formatOps(row.troupeFigures?.opsPerSec),
    formatMs(row.troupeFigures?.p99Ms),
    formatRatio(row.ratio),
  ])
  const lines = alignedTable(header, body, new Set([0, 4, 5, 6, 7, 8]))
  if (rows.some((row) => row.peerConditions !== undefined)) lines.push('', 'conditions in full:')
  rows.forEach((row, i) => {
    if (row.peerConditions !== undefined) lines.push(`${String(i + 1).padStart(3)}. ${row.peer}: ${row.peerConditions}`)
    for (const note of row.peerFigures?.notes ?? []) lines.push(`     ! ${row.peer}: ${note}`)
  })
  // Troupe's figure of a workload is shared by every row of that workload: say its conditions and caveats once.
  const seen = new Set<string>()
  const troupe: string[] = []
  for (const row of rows) {
    if (row.troupeConditions === undefined || seen.has(row.workload)) continue
    seen.add(row.workload)
    troupe.push(`     ${WORKLOAD_LABELS[row.workload]}: ${row.troupeConditions}`)
    for (const note of row.troupeFigures?.notes ?? []) troupe.push(`     ! Troupe, ${WORKLOAD_LABELS[row.workload]}: ${note}`)
  }
  if (troupe.length > 0) lines.push('', 'Troupe:', ...troupe)
  return lines.join('\n')
}
