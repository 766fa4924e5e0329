// etcd, 3 members on loopback: put, and get with the client's default
// linearizable range (a ReadIndex round through the leader). etcd fsyncs its
// WAL before acknowledging a put. The client spreads calls over the three
// members, as Troupe's callers are spread over its three nodes.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Etcd3 } from 'etcd3'
import { BINARIES, binaryVersion, ensureBinaries } from './binaries.js'
import { runClosedLoop } from './closed-loop.js'
import { etcdArgs, ETCD_READY_LINE, type EtcdMember } from './etcd-config.js'
import { freePorts } from './free-ports.js'
import { launch, stopAll, type ManagedProcess } from './process-launcher.js'
import { runAll } from './preload.js'
import { retry, SETUP_RETRY } from './retry.js'
import { KV_KEYS, kvKey, type PeerMeasurement, type RunContext } from './workload.js'

const READY_TIMEOUT_MS = 60_000
const PEER = 'etcd (3 members)'
const SUMMARY = '3 members, fsync'

export async function runEtcd(context: RunContext): Promise<PeerMeasurement[]> {
  const paths = await ensureBinaries([BINARIES.etcd], context)
  const etcdBinary = paths.get(BINARIES.etcd.command)!
  const conditions = `${binaryVersion(etcdBinary)}, 3 members, WAL fsync before ack (default), client spreads calls over the members`
  const ports = await freePorts(6)
  const members: EtcdMember[] = [1, 2, 3].map((i) => ({
    name: `etcd-${i}`,
    clientPort: ports[i - 1]!,
    peerPort: ports[i + 2]!,
    dataDir: join(context.dataDir, `etcd-${i}`),
  }))
  const processes: ManagedProcess[] = []
  let client: Etcd3 | undefined
  try {
    for (const member of members) {
      await mkdir(member.dataDir, { recursive: true })
      // The members only become ready together (they need a quorum), so all are started before waiting.
      processes.push(
        launch({
          name: member.name,
          command: etcdBinary,
          args: etcdArgs(member, members, 'troupe-peers-bench'),
          readyLine: ETCD_READY_LINE,
          readyTimeoutMs: READY_TIMEOUT_MS,
        }),
      )
    }
    for (const managed of processes) await managed.ready()
    client = new Etcd3({ hosts: members.map((m) => `http://127.0.0.1:${m.clientPort}`) })
    const etcd = client
    const value = Buffer.alloc(context.sizeBytes, 'v')
    await retry('etcd: first put', SETUP_RETRY, async () => {
      await etcd.put('bench-ready').value('1')
    })
    context.log('etcd: put')
    const put = await runClosedLoop(context, async (_client, sequence) => {
      await etcd.put(kvKey(sequence)).value(value)
      return 1
    })
    await runAll(KV_KEYS, context.clients, async (i) => {
      await etcd.put(kvKey(i)).value(value)
    })
    context.log('etcd: linearizable get')
    const get = await runClosedLoop(context, async (_client, sequence) => {
      const answer = await etcd.get(kvKey(sequence)).buffer()
      if (answer === null) throw new Error(`get ${kvKey(sequence)}: missing`)
      return 1
    })
    return [
      { workload: 'kv-put', peer: PEER, summary: SUMMARY, conditions, result: put },
      { workload: 'kv-get', peer: PEER, summary: SUMMARY, conditions: `${conditions}; linearizable range (default)`, result: get },
    ]
  } finally {
    client?.close()
    await stopAll(processes)
  }
}
