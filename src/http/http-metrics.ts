// Prometheus metrics of one HTTP server (prom-client, in a registry of its
// own so that several servers in one process do not collide). HTTP counters
// are updated per request; node gauges are refreshed from the node's API on
// each scrape. Labels are route patterns, never raw paths, so cardinality
// stays bounded; queues exported per scrape are bounded too.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { TroupeNode } from '../node/troupe-node.js'

/** Queues whose depth one scrape exports at most (the rest are summed in `queue="_other"`). */
export const METRICS_QUEUES_MAX = 1000

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
    await this.refreshNode()
    return this.registry.metrics()
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
