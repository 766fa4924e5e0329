// nats-server configuration for one JetStream server, alone or in a cluster
// whose routes are on loopback. Nothing is tuned: JetStream's file store
// keeps its default sync behaviour (nats-server 2.9 has no `sync_interval`
// option: it rejects it as an unknown field).

export interface NatsServerOptions {
  serverName: string
  port: number
  storeDir: string
  /** Absent for a single server. */
  cluster?: {
    name: string
    port: number
    /** Route ports of the other members. */
    routePorts: number[]
  }
  /** Emit `sync_interval: always` (nats-server >= 2.10 only). */
  syncAlways?: boolean
}

function quoted(value: string): string {
  return JSON.stringify(value)
}

export function natsConfig(options: NatsServerOptions): string {
  const jetstream = [`  store_dir: ${quoted(options.storeDir)}`]
  if (options.syncAlways === true) jetstream.push('  sync_interval: always')
  const lines = [`server_name: ${quoted(options.serverName)}`, `listen: "127.0.0.1:${options.port}"`, 'jetstream {', ...jetstream, '}']
  if (options.cluster !== undefined) {
    const routes = options.cluster.routePorts.map((port) => `    ${quoted(`nats-route://127.0.0.1:${port}`)}`)
    lines.push(
      'cluster {',
      `  name: ${quoted(options.cluster.name)}`,
      `  listen: "127.0.0.1:${options.cluster.port}"`,
      '  routes: [',
      ...routes,
      '  ]',
      '}',
    )
  }
  return lines.join('\n') + '\n'
}

/** Configurations of an n-server cluster: member i routes to every other member. */
export function natsClusterConfigs(names: string[], ports: { client: number[]; route: number[] }, storeDirs: string[], clusterName: string, syncAlways = false): string[] {
  if (names.length !== ports.client.length || names.length !== ports.route.length || names.length !== storeDirs.length) {
    throw new RangeError('natsClusterConfigs: names, ports and store dirs must have the same length')
  }
  return names.map((serverName, i) =>
    natsConfig({
      serverName,
      port: ports.client[i]!,
      storeDir: storeDirs[i]!,
      cluster: { name: clusterName, port: ports.route[i]!, routePorts: ports.route.filter((_, j) => j !== i) },
      syncAlways,
    }),
  )
}

export const NATS_READY_LINE = /Server is ready/
