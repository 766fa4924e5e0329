// Three in-process nodes on loopback, each serving the client protocol, for
// the tests that speak the protocol to a cluster. Closes everything at the
// end of the test file.
import type { TroupeNode } from '../../src/index.js'
import { startClientServer, type ClientServerHandle } from '../../src/net/client-server.js'
import { freePorts } from '../cli/helpers.js'
import { eventually, removeDir, startTestNode, tempDir } from '../node/helpers.js'
import { WireClient } from './client-wire.js'
import type { TestScope } from './helpers.js'

export interface ClientCluster {
  nodes: TroupeNode[]
  servers: ClientServerHandle[]
  /** A wire client to node `index` (0-based) that has said hello; closed at teardown. */
  connect(index: number, hello?: Record<string, unknown>): Promise<WireClient>
}

export async function startClientCluster(t: TestScope, prefix: string, shards: number): Promise<ClientCluster> {
  const dir = await tempDir(prefix)
  const ports = await freePorts(3)
  const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
  const nodes: TroupeNode[] = await Promise.all(
    [1, 2, 3].map((id) => startTestNode(`${dir}/node-${id}`, { id, cluster, peer: `127.0.0.1:${ports[id - 1]}`, shards, sync: 'none' })),
  )
  const servers = await Promise.all(nodes.map((node) => startClientServer(node, { host: '127.0.0.1', port: 0 })))
  const clients: WireClient[] = []
  t.teardown(async () => {
    for (const client of clients) client.close()
    await Promise.all(servers.map((server) => server.close()))
    await Promise.all(nodes.map((node) => node.close()))
    await removeDir(dir)
  })
  await eventually(async () => (nodes.every((node) => node.nodes().every((member) => member.tcp !== undefined)) ? true : undefined), 10_000, 'announced addresses')
  return {
    nodes,
    servers,
    async connect(index, hello = {}) {
      const { client, welcome } = await WireClient.connect(servers[index]!.address.port, hello)
      clients.push(client)
      if ((welcome as { op?: unknown }).op !== 'welcome') throw new Error(`expected a welcome, got ${JSON.stringify(welcome)}`)
      return client
    },
  }
}
