// Pairs each peer measurement with Troupe's measurement of the same workload
// and says how they compare. Pure: the tests feed it numbers.
import type { LoadResult } from './closed-loop.js'
import { WORKLOADS, type PeerMeasurement, type Workload } from './workload.js'

export interface Figures {
  opsPerSec: number
  p50Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  /** Logical operations counted in the window. */
  operations: number
  /** Why the figure may mislead: errors, a queue that ran dry. Empty when clean. */
  notes: string[]
}

export interface ComparisonRow {
  workload: Workload
  /** Absent on a Troupe-only row (no peer measured that workload in this run). */
  peer?: string
  peerConditions?: string
  /** The peer's conditions in a few words (fsync, replicas). */
  peerSummary?: string
  peerFigures?: Figures
  troupeConditions?: string
  troupeFigures?: Figures
  /** Troupe ops/s divided by the peer's; absent when either is missing or the peer measured 0. */
  ratio?: number
}

export function resultNotes(result: LoadResult): string[] {
  const notes: string[] = []
  if (result.drainedAtMs !== undefined) {
    notes.push(result.measuredMs > 0 ? `ran dry after ${(result.drainedAtMs / 1000).toFixed(1)} s` : 'ran dry during the warm-up')
  }
  if (result.errors > 0) notes.push(`${result.errors} errors, first: ${result.firstError ?? 'unknown'}`)
  if (result.calls === 0 && result.drainedAtMs === undefined) notes.push('no call completed in the window')
  return notes
}

export function figures(result: LoadResult): Figures {
  return {
    opsPerSec: Math.round(result.opsPerSec),
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    p999Ms: result.p999Ms,
    maxMs: result.maxMs,
    operations: result.operations,
    notes: resultNotes(result),
  }
}

/** Troupe ops/s over the peer's, to 2 decimals; undefined when not comparable. */
export function ratio(troupeOpsPerSec: number | undefined, peerOpsPerSec: number | undefined): number | undefined {
  if (troupeOpsPerSec === undefined || peerOpsPerSec === undefined || peerOpsPerSec <= 0) return undefined
  return Math.round((troupeOpsPerSec / peerOpsPerSec) * 100) / 100
}

/** One row per peer measurement (in run order, grouped by workload), plus Troupe-only rows for workloads no peer measured. */
export function compare(peers: PeerMeasurement[], troupe: PeerMeasurement[]): ComparisonRow[] {
  const rows: ComparisonRow[] = []
  for (const workload of WORKLOADS) {
    const ours = troupe.find((m) => m.workload === workload)
    const theirs = peers.filter((m) => m.workload === workload)
    for (const peer of theirs) {
      const row: ComparisonRow = { workload, peer: peer.peer, peerSummary: peer.summary, peerConditions: peer.conditions, peerFigures: figures(peer.result) }
      if (ours !== undefined) {
        row.troupeConditions = ours.conditions
        row.troupeFigures = figures(ours.result)
        const r = ratio(ours.result.opsPerSec, peer.result.opsPerSec)
        if (r !== undefined) row.ratio = r
      }
      rows.push(row)
    }
    if (theirs.length === 0 && ours !== undefined) rows.push({ workload, troupeConditions: ours.conditions, troupeFigures: figures(ours.result) })
  }
  return rows
}
