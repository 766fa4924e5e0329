// NATS JetStream: js.publish (the server answers once the message is stored:
// on the stream's leader with 1 replica, on a quorum with 3) and a durable
// pull consumer (fetch up to 10, ackAck each: the ack is confirmed by the
// server). File storage, work-queue retention (an acked message is removed,
// as in Troupe), 1 replica on one server and 3 replicas on a 3-server
// cluster. By default JetStream acknowledges before any fsync: its file
// store syncs in the background. Where the installed nats-server accepts
// `sync_interval: always` (2.10 and later; 2.9 rejects it as an unknown
// field) both configurations run, the default and sync always.
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AckPolicy, connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats'
import { BINARIES, binaryVersion, ensureBinaries } from './binaries.js'
import { runClosedLoop } from './closed-loop.js'
import { freePorts } from './free-ports.js'
import { natsClusterConfigs, natsConfig, NATS_READY_LINE } from './nats-config.js'
import { launch, stopAll, type ManagedProcess } from './process-launcher.js'
import { retry, SETUP_RETRY } from './retry.js'
import { ENQUEUE_BATCH, RECEIVE_BATCH, type PeerMeasurement, type RunContext } from './workload.js'

const STREAM = 'BENCH'
const SUBJECT = 'bench.jobs'
const CONSUMER = 'workers'
const READY_TIMEOUT_MS = 30_000
/** The client library's minimum; a fetch returns as soon as it has its messages. */
const FETCH_EXPIRES_MS = 1000

interface NatsSetup {
  replicas: 1 | 3
  syncAlways: boolean
  natsServer: string
  version: string
}

function fsyncNote(setup: NatsSetup, syncAlwaysSupported: boolean): string {
  if (setup.syncAlways) return 'file storage, sync_interval: always (fsync of every write before ack)'
  return `file storage, default sync (acked before fsync; flushed in the background${syncAlwaysSupported ? '' : `; this ${setup.version} has no sync_interval option`})`
}

/** Whether this nats-server accepts `sync_interval: always` (`nats-server -t` checks a config and exits). */
async function supportsSyncAlways(natsServer: string, dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true })
  const configPath = join(dir, 'sync-check.conf')
  await writeFile(configPath, natsConfig({ serverName: 'check', port: 4222, storeDir: join(dir, 'check'), syncAlways: true }))
  return spawnSync(natsServer, ['-t', '-c', configPath], { timeout: 10_000 }).status === 0
}

async function startServers(context: RunContext, setup: NatsSetup): Promise<{ processes: ManagedProcess[]; ports: number[] }> {
  const { replicas, syncAlways, natsServer } = setup
  const root = join(context.dataDir, `nats-r${replicas}${syncAlways ? '-sync' : ''}`)
  const names = Array.from({ length: replicas }, (_, i) => `n${i + 1}`)
  const ports = await freePorts(replicas * 2)
  const clientPorts = ports.slice(0, replicas)
  const routePorts = ports.slice(replicas)
  const storeDirs = names.map((name) => join(root, name))
  const configs =
    replicas === 1
      ? [natsConfig({ serverName: names[0]!, port: clientPorts[0]!, storeDir: storeDirs[0]!, syncAlways })]
      : natsClusterConfigs(names, { client: clientPorts, route: routePorts }, storeDirs, 'peers-bench', syncAlways)
  const processes: ManagedProcess[] = []
  try {
    for (const [i, name] of names.entries()) {
      await mkdir(join(root, name), { recursive: true })
      const configPath = join(root, name, 'nats.conf')
      await writeFile(configPath, configs[i]!)
      processes.push(launch({ name: `nats-${name}`, command: natsServer, args: ['-c', configPath], readyLine: NATS_READY_LINE, readyTimeoutMs: READY_TIMEOUT_MS }))
    }
    for (const managed of processes) await managed.ready()
  } catch (error) {
    await stopAll(processes)
    throw error
  }
  return { processes, ports: clientPorts }
}

async function createStream(nc: NatsConnection, replicas: 1 | 3): Promise<void> {
  // A fresh cluster answers "JetStream system temporarily unavailable" (or not at all) until its meta leader is elected.
  const jsm = await retry('nats: JetStream API', SETUP_RETRY, () => nc.jetstreamManager())
  await retry('nats: create stream', SETUP_RETRY, () =>
    jsm.streams.add({ name: STREAM, subjects: [SUBJECT], storage: StorageType.File, retention: RetentionPolicy.Workqueue, num_replicas: replicas }),
  )
  await retry('nats: create consumer', SETUP_RETRY, () => jsm.consumers.add(STREAM, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit }))
}

async function runSetup(context: RunContext, setup: NatsSetup, syncAlwaysSupported: boolean): Promise<PeerMeasurement[]> {
  const { replicas } = setup
  const tag = `R${replicas}${setup.syncAlways ? ' sync' : ''}`
  const servers = await startServers(context, setup)
  let nc: NatsConnection | undefined
  try {
    nc = await connect({ servers: servers.ports.map((port) => `127.0.0.1:${port}`), maxReconnectAttempts: 10 })
    await createStream(nc, replicas)
    const js = nc.jetstream()
    const payload = new Uint8Array(context.sizeBytes).fill(120)
    const peer = `NATS JetStream ${tag}`
    const summary = `${replicas} replica${replicas === 1 ? '' : 's'}, ${setup.syncAlways ? 'fsync' : 'no fsync'}`
    const conditions = `${setup.version}, ${replicas === 1 ? '1 server' : '3 servers'}, ${replicas} replica${replicas === 1 ? '' : 's'}, ${fsyncNote(setup, syncAlwaysSupported)}`
    context.log(`nats ${tag}: js.publish`)
    const single = await runClosedLoop(context, async () => {
      await js.publish(SUBJECT, payload)
      return 1
    })
    context.log(`nats ${tag}: ${ENQUEUE_BATCH} pipelined js.publish`)
    const batch = await runClosedLoop(context, async () => {
      await Promise.all(Array.from({ length: ENQUEUE_BATCH }, () => js.publish(SUBJECT, payload)))
      return ENQUEUE_BATCH
    })
    context.log(`nats ${tag}: fetch + ackAck`)
    const consumer = await js.consumers.get(STREAM, CONSUMER)
    const consume = await runClosedLoop(context, async () => {
      const messages = await consumer.fetch({ max_messages: RECEIVE_BATCH, expires: FETCH_EXPIRES_MS })
      const acks: Promise<boolean>[] = []
      for await (const message of messages) acks.push(message.ackAck())
      const acked = await Promise.all(acks)
      if (acked.some((ok) => !ok)) throw new Error('ackAck was not confirmed')
      return acks.length
    })
    return [
      { workload: 'enqueue-1', peer, summary, conditions: `${conditions}; js.publish`, result: single },
      { workload: 'enqueue-100', peer, summary, conditions: `${conditions}; ${ENQUEUE_BATCH} js.publish in flight (no batch API)`, result: batch },
      { workload: 'consume-ack', peer, summary, conditions: `${conditions}; pull fetch ${RECEIVE_BATCH} + ackAck each`, result: consume },
    ]
  } finally {
    context.log(`nats ${tag}: stopping`)
    await nc?.close()
    context.log(`nats ${tag}: client closed`)
    await stopAll(servers.processes)
  }
}

export async function runNats(context: RunContext): Promise<PeerMeasurement[]> {
  const paths = await ensureBinaries([BINARIES.nats], context)
  const natsServer = paths.get(BINARIES.nats.command)!
  const version = binaryVersion(natsServer)
  const syncAlwaysSupported = await supportsSyncAlways(natsServer, join(context.dataDir, 'nats-check'))
  context.log(`nats: ${version}; sync_interval: always ${syncAlwaysSupported ? 'supported: running default and sync always' : 'not supported: default sync only'}`)
  const rows: PeerMeasurement[] = []
  for (const syncAlways of syncAlwaysSupported ? [false, true] : [false]) {
    for (const replicas of [1, 3] as const) rows.push(...(await runSetup(context, { replicas, syncAlways, natsServer, version }, syncAlwaysSupported)))
  }
  return rows
}
