// Command lines of an etcd cluster on loopback. etcd writes its WAL with
// fsync before it acknowledges (etcd 3.4 has no switch to turn that off);
// everything is left at its defaults.

export interface EtcdMember {
  name: string
  clientPort: number
  peerPort: number
  dataDir: string
}

export function initialCluster(members: EtcdMember[]): string {
  return members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(',')
}

export function etcdArgs(member: EtcdMember, members: EtcdMember[], clusterToken: string): string[] {
  if (!members.some((m) => m.name === member.name)) throw new RangeError(`etcd member ${member.name} is not in the cluster list`)
  const client = `http://127.0.0.1:${member.clientPort}`
  const peer = `http://127.0.0.1:${member.peerPort}`
  return [
    '--name', member.name,
    '--data-dir', member.dataDir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', initialCluster(members),
    '--initial-cluster-state', 'new',
    '--initial-cluster-token', clusterToken,
    '--logger', 'zap',
    '--log-outputs', 'stderr',
  ]
}

/** etcd 3.4 with the zap logger says `serving client traffic insecurely` once it has joined; capnslog says `ready to serve client requests`. */
export const ETCD_READY_LINE = /serving client traffic|ready to serve client requests/
