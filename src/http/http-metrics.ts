// Prometheus metrics of one HTTP server (prom-client, in a registry of its
// own so that several servers in one process do not collide). HTTP counters
// are updated per request; node gauges are refreshed from the node's API on
// each scrape. Labels are route patterns, never raw paths, so cardinality
// stays bounded; queues and actors exported per scrape are bounded too.
// What the node counts below the API (WAL, actors, shards, peer links) is read
// from node.metrics() on each scrape and written as text (prometheus-text.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { NodeMetrics, TroupeNode } from '../node/troupe-node.js'
import { counterText, gaugeText, histogramText, type Sample } from './prometheus-text.js'

/** Queues whose depth one scrape exports at most (the rest are summed in `queue="_other"`). */
export const METRICS_QUEUES_MAX = 1000
/** Actors exported per scrape at most (applications may spawn many; the rest are summed in `actor="_other"`). */
export const METRICS_ACTORS_MAX = 1000

interface Observer {
  count: { inc(): void }
  duration: { observe(seconds: number): void }
}

export class HttpMetrics {
  readonly registry = new Registry()
  readonly contentType = this.registry.contentType
  private readonly requests: Counter<'route' | 'method' | 'status'>
  private readonly durations: Histogram<'route' | 'method' | 'status'>
  private readonly observers = new Map<string, Observer>()
  readonly inFlight: Gauge
  readonly longPolls: Gauge
  private readonly queueMessages: Gauge<'queue' | 'state'>
  private readonly queueCounters: Gauge<'queue' | 'event'>
  private readonly raftTerm: Gauge<'shard'>
  private readonly raftCommit: Gauge<'shard'>
  private readonly raftApplied: Gauge<'shard'>
  private readonly raftLeader: Gauge<'shard'>

  constructor(private readonly node: TroupeNode) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'troupe_' })
    this.requests = new Counter({ name: 'troupe_http_requests_total', help: 'HTTP requests answered, by route, method and status', labelNames: ['route', 'method', 'status'], registers })
    this.durations = new Histogram({
      name: 'troupe_http_request_duration_seconds',
      help: 'HTTP request latency from the first byte read to the answer written, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25],
      registers,
    })
    this.inFlight = new Gauge({ name: 'troupe_http_in_flight_requests', help: 'HTTP requests being handled', registers })
    this.longPolls = new Gauge({ name: 'troupe_http_long_polls', help: 'receive requests held open waiting for messages', registers })
    this.queueMessages = new Gauge({ name: 'troupe_queue_messages', help: 'messages in a queue by state (visible, inFlight, delayed, deadLettering, total)', labelNames: ['queue', 'state'], registers })
    this.queueCounters = new Gauge({
      name: 'troupe_queue_events_total',
      help: 'messages of a queue by event since the queue was created (sent, received, acked, deadLettered, dropped, expired)',
      labelNames: ['queue', 'event'],
      registers,
    })
    this.raftTerm = new Gauge({ name: 'troupe_raft_term', help: 'current Raft term of each shard replica on this node', labelNames: ['shard'], registers })
    this.raftCommit = new Gauge({ name: 'troupe_raft_commit_index', help: 'Raft commit index of each shard replica', labelNames: ['shard'], registers })
    this.raftApplied = new Gauge({ name: 'troupe_raft_applied_index', help: 'Raft applied index of each shard replica', labelNames: ['shard'], registers })
    this.raftLeader = new Gauge({ name: 'troupe_raft_leader', help: 'node id of the shard leader as this node knows it (0 = none)', labelNames: ['shard'], registers })
  }

  observe(route: string, method: string, status: number, durationSec: number): void {
    const key = `${route} ${method} ${status}`
    let observer = this.observers.get(key)
    if (observer === undefined) {
      const statusLabel = String(status)
      observer = { count: this.requests.labels(route, method, statusLabel), duration: this.durations.labels(route, method, statusLabel) }
      this.observers.set(key, observer)
    }
    observer.count.inc()
    observer.duration.observe(durationSec)
  }

  /** The exposition text, with node gauges read now. */
  async render(): Promise<string> {
    const [, internals] = await Promise.all([this.refreshNode(), this.node.metrics()])
    return (await this.registry.metrics()) + '\n' + internalsText(internals, this.node)
  }

  private async refreshNode(): Promise<void> {
    const [status, queues] = await Promise.all([this.node.status(), this.node.queues.list()])
    for (const gauge of [this.raftTerm, this.raftCommit, this.raftApplied, this.raftLeader]) gauge.reset()
    for (const shard of status.shards) {
      const label = String(shard.id)
      this.raftTerm.labels(label).set(shard.term)
      this.raftCommit.labels(label).set(shard.commitIndex)
      this.raftApplied.labels(label).set(shard.appliedIndex)
      this.raftLeader.labels(label).set(shard.leader)
    }
    this.queueMessages.reset()
    this.queueCounters.reset()
    for (const [position, { name, stats }] of queues.entries()) {
      const queue = position < METRICS_QUEUES_MAX ? name : '_other'
      const states = { visible: stats.visible, inFlight: stats.inFlight, delayed: stats.delayed, deadLettering: stats.deadLettering, total: stats.total }
      for (const [state, value] of Object.entries(states)) this.queueMessages.labels(queue, state).inc(value)
      const events = {
        sent: stats.sentTotal,
        received: stats.receivedTotal,
        acked: stats.ackedTotal,
        deadLettered: stats.deadLetteredTotal,
        dropped: stats.droppedTotal,
        expired: stats.expiredTotal,
      }
      for (const [event, value] of Object.entries(events)) this.queueCounters.labels(queue, event).inc(value)
    }
  }
}

/** WAL, actors, shards and peer links as exposition text. */
/** One sample per shard replica of this node, labelled by shard. */
function perShard(metrics: NodeMetrics, field: Exclude<keyof NodeMetrics['shards'][number], 'id'>): Sample[] {
  return metrics.shards.map((shard) => ({ labels: { shard: String(shard.id) }, value: shard[field] }))
}

function internalsText(metrics: NodeMetrics, node: TroupeNode): string {
  const parts: string[] = []
  const wal = metrics.wal
  if (wal !== undefined) {
    parts.push(
      counterText('troupe_wal_batches_total', 'WAL batches written (one write, then one fsync with sync=always)', [{ labels: {}, value: wal.batches }]),
      counterText('troupe_wal_records_total', 'WAL records written', [{ labels: {}, value: wal.recordsWritten }]),
      counterText('troupe_wal_written_bytes_total', 'WAL bytes written', [{ labels: {}, value: wal.bytesWritten }]),
      counterText('troupe_wal_fsyncs_total', 'fdatasync calls on WAL batches (0 with sync=none)', [{ labels: {}, value: wal.fsyncs }]),
      counterText('troupe_wal_blocking_batches_total', 'WAL batches written blocking the writer thread (a fast disk; the rest went through the libuv pool)', [{ labels: {}, value: wal.blockingBatches }]),
      histogramText('troupe_wal_fsync_duration_seconds', 'latency of fdatasync on WAL batches', wal.fsyncMs, 0.001),
      histogramText('troupe_wal_batch_records', 'records per WAL batch (group commit size)', wal.batchRecords),
      histogramText('troupe_wal_batch_bytes', 'bytes per WAL batch', wal.batchBytes),
      gaugeText('troupe_wal_segments', 'WAL segment files', [{ labels: {}, value: wal.segments }]),
      gaugeText('troupe_wal_queued_writes', 'shard writes waiting for the next WAL batch', [{ labels: {}, value: wal.queuedWrites + wal.waitingWrites }]),
    )
  }
  const depth: Sample[] = []
  const restarts: Sample[] = []
  const other = { depth: 0, restarts: 0 }
  for (const [position, actor] of metrics.actors.entries()) {
    if (position >= METRICS_ACTORS_MAX) {
      other.depth += actor.mailboxDepth
      other.restarts += actor.restarts
      continue
    }
    const labels = { thread: actor.thread, actor: actor.name }
    depth.push({ labels, value: actor.mailboxDepth })
    restarts.push({ labels, value: actor.restarts })
  }
  if (metrics.actors.length > METRICS_ACTORS_MAX) {
    depth.push({ labels: { thread: '_other', actor: '_other' }, value: other.depth })
    restarts.push({ labels: { thread: '_other', actor: '_other' }, value: other.restarts })
  }
  parts.push(
    gaugeText('troupe_actor_mailbox_depth', 'messages waiting in an actor mailbox', depth),
    counterText('troupe_actor_restarts_total', 'restarts of an actor by its supervisor (counted from the start of its thread)', restarts),
    gaugeText(
      'troupe_shard_parked_receives',
      'long-poll receives parked in a shard replica waiting for messages',
      perShard(metrics, 'parkedReceives'),
    ),
    gaugeText(
      'troupe_shard_pending_proposals',
      'proposals of a shard replica waiting to be applied (after a leader change, those of its former leadership until their index is applied)',
      perShard(metrics, 'pendingProposals'),
    ),
    counterText(
      'troupe_shard_snapshots_installed_total',
      'snapshots a shard replica received from its leader (a follower too far behind the log), since its thread started',
      perShard(metrics, 'snapshotsInstalled'),
    ),
    counterText(
      'troupe_shard_balance_transfers_total',
      'leaderships a shard replica handed to the preferred replica of its shard, since its thread started',
      perShard(metrics, 'balanceTransfers'),
    ),
    gaugeText('troupe_node_write_bytes_in_flight', 'bytes of writes (bodies, values, HTTP bodies being read) this node has taken in and not answered', [
      { labels: {}, value: node.writes.inFlightBytes },
    ]),
    counterText('troupe_node_writes_refused_total', 'writes refused with UNAVAILABLE because writeBytesInFlightMax was reached', [
      { labels: {}, value: node.writes.refusedTotal },
    ]),
    gaugeText(
      'troupe_peer_up',
      'whether the peer link to another member is connected (1) or not (0)',
      node
        .nodes()
        .filter((member) => member.state !== 'self')
        .map((member) => ({ labels: { peer: String(member.id) }, value: member.state === 'up' ? 1 : 0 })),
    ),
  )
  return parts.join('\n')
}
