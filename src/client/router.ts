// Where each call goes: the shard's leader from the cluster view, a replica
// of the shard when the leader is unknown, any node for cluster-wide ops.
// Also keeps the view fresh: a refresh asks any reachable node for `cluster`
// and runs at most once per REFRESH_INTERVAL_MS, however many calls ask.
import type { Logger } from 'pino'
import type { Cancellation } from './cancellation.js'
import { ClusterView, parseClusterMap } from './cluster-view.js'
import { TroupeClientError } from './client-error.js'
import type { ClusterMap } from './client-types.js'
import type { ConnectionPool } from './connection-pool.js'

export const REFRESH_INTERVAL_MS = 100
/** Nodes asked for the map in one refresh before giving up until the next. */
const REFRESH_TRIES_MAX = 8

/** A call's destination: a shard (queue or key ops) or any node. */
export type Route = { shard: number } | 'any'

export class Router {
  readonly #pool: ConnectionPool
  readonly #seeds: readonly string[]
  readonly #logger: Logger | undefined
  #view: ClusterView | undefined
  #refreshing: Promise<ClusterMap> | undefined
  #lastRefreshAt = -Infinity
  #rotation = 0

  constructor(pool: ConnectionPool, seeds: readonly string[], logger: Logger | undefined) {
    this.#pool = pool
    this.#seeds = seeds
    this.#logger = logger
  }

  get view(): ClusterView {
    if (!this.#view) throw new TroupeClientError('CLOSED', 'the client has no cluster map yet (connect() did not finish)')
    return this.#view
  }

  /** The node to ask next for `route`, or undefined when none is known. */
  pick(route: Route): string | undefined {
    const view = this.view
    if (route !== 'any') {
      const leader = view.leaderAddress(route.shard)
      if (leader) return leader
      const members = view.memberAddresses(route.shard)
      if (members.length > 0) return members[this.#rotation++ % members.length]
    } else {
      const open = this.#pool.openAddresses()
      if (open.length > 0) return open[this.#rotation++ % open.length]
    }
    const known = [...view.addresses(), ...this.#seeds]
    return known.length > 0 ? known[this.#rotation++ % known.length] : undefined
  }

  /** Asks nodes for the cluster map until one answers; rejects when none does. Not rate-limited. */
  async fetch(cancellation?: Cancellation): Promise<ClusterMap> {
    const candidates = [...new Set([...this.#pool.openAddresses(), ...(this.#view?.addresses() ?? []), ...this.#seeds])].slice(0, REFRESH_TRIES_MAX)
    let lastError: unknown
    for (const address of candidates) {
      if (cancellation?.cancelled) break
      try {
        const connection = await this.#pool.get(address)
        const map = parseClusterMap(await connection.request('cluster', {}, cancellation))
        if (this.#view) this.#view.update(map)
        else this.#view = new ClusterView(map)
        this.#lastRefreshAt = Date.now()
        return map
      } catch (error) {
        lastError = error
        if (error instanceof TroupeClientError && (error.code === 'UNAUTHORIZED' || error.code === 'CLOSED')) break
      }
    }
    if (lastError instanceof TroupeClientError) throw lastError
    throw new TroupeClientError('CONNECTION_FAILED', `no node answered with the cluster map (asked ${candidates.join(', ')})`, { cause: lastError })
  }

  /** A background refresh, unless one ran in the last REFRESH_INTERVAL_MS or is running. Never rejects. */
  refreshSoon(): void {
    if (this.#refreshing || Date.now() - this.#lastRefreshAt < REFRESH_INTERVAL_MS) return
    this.#lastRefreshAt = Date.now()
    this.#refreshing = this.fetch()
    this.#refreshing
      .catch((error: unknown) => this.#logger?.debug({ err: error }, 'cluster map refresh failed'))
      .finally(() => {
        this.#refreshing = undefined
      })
  }
}
