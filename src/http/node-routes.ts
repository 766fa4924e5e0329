// The node routes of CONTRACT §4 (health, readiness, metrics, cluster) and
// the OpenAPI document.
import type { TroupeNode } from '../node/troupe-node.js'
import { HttpError } from './http-error.js'
import type { HttpMetrics } from './http-metrics.js'
import { jsonReply, type Reply, type Route } from './route.js'

export interface ClusterAddresses {
  /** This node's HTTP address as clients should use it (`host:port`). */
  http: string
  /** Client TCP protocol address, when the caller runs one. */
  tcp: string | null
  /** Peer (node-to-node) address, when the caller runs one. */
  peer: string | null
}

export function nodeRoutes(node: TroupeNode, metrics: HttpMetrics, addresses: () => ClusterAddresses, closing: () => boolean, openApi: () => string): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/health',
      auth: false,
      doc: { summary: 'Liveness (no auth)', responses: { 200: '{"status":"ok","node":id}' } },
      async handler() {
        return jsonReply(200, { status: 'ok', node: node.id })
      },
    },
    {
      method: 'GET',
      pattern: '/ready',
      auth: false,
      doc: { summary: 'Readiness: every shard has a known leader and the node serves (no auth)', responses: { 200: '{"status":"ready","node":id}', 503: 'UNAVAILABLE' } },
      async handler() {
        if (closing()) throw new HttpError('UNAVAILABLE', 'the server is shutting down', { retryAfterSec: 1 })
        const status = await node.status()
        const leaderless = status.shards.filter((shard) => shard.leader === 0).map((shard) => shard.id)
        if (leaderless.length > 0) throw new HttpError('UNAVAILABLE', `shards without a known leader: ${leaderless.join(', ')}`, { retryAfterSec: 1 })
        return jsonReply(200, { status: 'ready', node: node.id })
      },
    },
    {
      method: 'GET',
      pattern: '/metrics',
      auth: true,
      doc: { summary: 'Prometheus text exposition', responses: { 200: 'text/plain; version=0.0.4', 401: 'UNAUTHORIZED', 503: 'UNAVAILABLE' } },
      async handler(): Promise<Reply> {
        return { status: 200, body: await metrics.render(), contentType: metrics.contentType }
      },
    },
    {
      method: 'GET',
      pattern: '/v1/cluster',
      auth: true,
      doc: {
        summary: 'Nodes and shards as this node sees them',
        responses: { 200: '{"node","nodes":[{"id","peer","http","tcp","state"}],"shards":[{"id","leader","term","commitIndex","members"}]}', 401: 'UNAUTHORIZED', 503: 'UNAVAILABLE' },
      },
      async handler() {
        const status = await node.status()
        const self = addresses()
        const nodes = node.nodes().map((member) =>
          member.state === 'self'
            ? { id: member.id, peer: self.peer ?? member.peer, http: self.http, tcp: member.tcp ?? self.tcp ?? null, state: closing() ? 'leaving' : 'up' }
            : { id: member.id, peer: member.peer, http: member.http ?? null, tcp: member.tcp ?? null, state: member.state === 'up' && member.leaving === true ? 'leaving' : member.state },
        )
        return jsonReply(200, {
          node: status.node,
          nodes,
          shards: status.shards.map((s) => ({ id: s.id, leader: s.leader, term: s.term, commitIndex: s.commitIndex, members: s.members })),
        })
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/cluster/nodes/{id}',
      auth: true,
      doc: {
        summary: 'Remove a member from the cluster for good (to replace a lost machine: remove it, then join a new node with a new id)',
        responses: { 200: '{"removed":id}', 400: 'INVALID_ARGUMENT: not a member, or the only voting member', 401: 'UNAUTHORIZED', 503: 'UNAVAILABLE', 504: 'TIMEOUT' },
      },
      async handler(ctx) {
        const text = ctx.params.id ?? ''
        if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new HttpError('INVALID_ARGUMENT', `a node id is a positive integer, got '${text}'`, { field: 'id' })
        const id = Number(text)
        await node.removeMember(id)
        return jsonReply(200, { removed: id })
      },
    },
    {
      method: 'GET',
      pattern: '/openapi.json',
      auth: false,
      doc: { summary: 'This OpenAPI document (no auth)', responses: { 200: 'OpenAPI 3.1 document' } },
      async handler() {
        return { status: 200, body: openApi(), contentType: 'application/json; charset=utf-8' }
      },
    },
  ]
}
