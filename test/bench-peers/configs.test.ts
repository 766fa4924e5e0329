import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { findExecutable } from '../../bench/peers/binaries.js'
import { etcdArgs, initialCluster, type EtcdMember } from '../../bench/peers/etcd-config.js'
import { natsClusterConfigs, natsConfig } from '../../bench/peers/nats-config.js'
import { redisConfig } from '../../bench/peers/redis-config.js'
import { troupeStartArgs, type TroupeNodeAddresses } from '../../bench/peers/troupe-cluster.js'

function directives(config: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of config.split('\n')) {
    const at = line.indexOf(' ')
    if (at > 0) map.set(line.slice(0, at), line.slice(at + 1))
  }
  return map
}

t.test('redis.conf: loopback, the port, AOF on with the fsync policy asked for, RDB snapshots off', async (t) => {
  for (const appendfsync of ['always', 'everysec'] as const) {
    const conf = directives(redisConfig({ port: 6400, dir: '/tmp/a dir/"x"', appendfsync }))
    t.equal(conf.get('bind'), '127.0.0.1')
    t.equal(conf.get('port'), '6400')
    t.equal(conf.get('appendonly'), 'yes')
    t.equal(conf.get('appendfsync'), appendfsync)
    t.equal(conf.get('save'), '""')
    t.equal(conf.get('dir'), '"/tmp/a dir/\\"x\\""', 'a path with spaces and quotes stays one quoted argument')
  }
  t.throws(() => redisConfig({ port: 70000, dir: '/tmp', appendfsync: 'always' }), RangeError)
})

t.test('nats cluster: each server routes to the two others, never to itself, on its own ports', async (t) => {
  const configs = natsClusterConfigs(['n1', 'n2', 'n3'], { client: [4001, 4002, 4003], route: [6001, 6002, 6003] }, ['/d/1', '/d/2', '/d/3'], 'c')
  t.equal(configs.length, 3)
  configs.forEach((config, i) => {
    const routes = [...config.matchAll(/nats-route:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]))
    t.same(routes.sort(), [6001, 6002, 6003].filter((_, j) => j !== i), `n${i + 1} routes`)
    t.match(config, `listen: "127.0.0.1:${4001 + i}"`)
    t.match(config, `listen: "127.0.0.1:${6001 + i}"`)
    t.match(config, `server_name: "n${i + 1}"`)
    t.match(config, `store_dir: "/d/${i + 1}"`)
    t.notMatch(config, 'sync_interval')
  })
  t.throws(() => natsClusterConfigs(['n1', 'n2'], { client: [1], route: [2, 3] }, ['/a', '/b'], 'c'), RangeError)
})

t.test('nats: sync_interval appears only when asked for, and a single server has no cluster block', async (t) => {
  const single = natsConfig({ serverName: 'n1', port: 4222, storeDir: '/d' })
  t.notMatch(single, 'cluster')
  t.match(natsConfig({ serverName: 'n1', port: 4222, storeDir: '/d', syncAlways: true }), 'sync_interval: always')
})

const natsServer = findExecutable('nats-server')
t.test('nats-server accepts the generated configurations (nats-server -t)', { skip: natsServer === undefined ? 'nats-server is not installed' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'peers-nats-conf-'))
  try {
    const configs = [
      natsConfig({ serverName: 'n1', port: 4222, storeDir: join(dir, 'single') }),
      ...natsClusterConfigs(['n1', 'n2', 'n3'], { client: [4001, 4002, 4003], route: [6001, 6002, 6003] }, ['a', 'b', 'c'].map((d) => join(dir, d)), 'c'),
    ]
    for (const [i, config] of configs.entries()) {
      const path = join(dir, `${i}.conf`)
      writeFileSync(path, config)
      const check = spawnSync(natsServer!, ['-t', '-c', path], { encoding: 'utf8', timeout: 10_000 })
      t.equal(check.status, 0, `config ${i}: ${check.stderr}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

t.test('etcd: every member gets the same initial cluster and its own client and peer URLs', async (t) => {
  const members: EtcdMember[] = [1, 2, 3].map((i) => ({ name: `e${i}`, clientPort: 2370 + i, peerPort: 2380 + i, dataDir: `/d/${i}` }))
  t.equal(initialCluster(members), 'e1=http://127.0.0.1:2381,e2=http://127.0.0.1:2382,e3=http://127.0.0.1:2383')
  const args = etcdArgs(members[1]!, members, 'tok')
  const value = (flag: string) => args[args.indexOf(flag) + 1]
  t.equal(value('--name'), 'e2')
  t.equal(value('--data-dir'), '/d/2')
  t.equal(value('--listen-client-urls'), 'http://127.0.0.1:2372')
  t.equal(value('--advertise-client-urls'), 'http://127.0.0.1:2372')
  t.equal(value('--listen-peer-urls'), 'http://127.0.0.1:2382')
  t.equal(value('--initial-cluster'), initialCluster(members))
  t.equal(value('--initial-cluster-state'), 'new')
  t.equal(value('--initial-cluster-token'), 'tok')
  t.throws(() => etcdArgs({ name: 'x', clientPort: 1, peerPort: 2, dataDir: '/x' }, members, 'tok'), RangeError)
})

t.test('troupe: start arguments carry the node addresses, the shared member list and --sync always', async (t) => {
  const nodes: TroupeNodeAddresses[] = [1, 2, 3].map((id) => ({ id, http: `127.0.0.1:${8000 + id}`, tcp: `127.0.0.1:${8100 + id}`, peer: `127.0.0.1:${8200 + id}` }))
  const args = troupeStartArgs(nodes[2]!, nodes, '/data/3')
  const value = (flag: string) => args[args.indexOf(flag) + 1]
  t.equal(args[0], 'start')
  t.equal(value('--id'), '3')
  t.equal(value('--data'), '/data/3')
  t.equal(value('--http'), '127.0.0.1:8003')
  t.equal(value('--listen'), '127.0.0.1:8103')
  t.equal(value('--peer'), '127.0.0.1:8203')
  t.equal(value('--cluster'), '1=127.0.0.1:8201,2=127.0.0.1:8202,3=127.0.0.1:8203')
  t.equal(value('--sync'), 'always')
})
