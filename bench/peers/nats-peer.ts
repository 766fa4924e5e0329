// NATS JetStream: js.publish (the server answers once the message is stored:
// on the stream's leader with 1 replica, on a quorum with 3) and a durable
// pull consumer (fetch up to 10, ackAck each: the ack is confirmed by the
// server). File storage, work-queue retention (an acked message is removed,
// as in Troupe), 1 replica on one server and 3 replicas on a 3-server
// cluster. JetStream acknowledges before any fsync: its file store syncs in
// the background (nats-server 2.9 cannot be told to sync every write; 2.10
// added `sync_interval: always`).
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AckPolicy, connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats'
import { BINARIES, ensureBinaries } from './binaries.js'
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

const FSYNC_NOTE = 'file storage, acked before fsync (background sync; 2.9 has no sync-always option)'

async function startServers(context: RunContext, replicas: 1 | 3, natsServer: string): Promise<{ processes: ManagedProcess[]; ports: number[] }> {
  const root = join(context.dataDir, `nats-r${replicas}`)
  const names = Array.from({ length: replicas }, (_, i) => `n${i + 1}`)
  const ports = await freePorts(replicas * 2)
  const clientPorts = ports.slice(0, replicas)
  const routePorts = ports.slice(replicas)
  const storeDirs = names.map((name) => join(root, name))
  const configs =
    replicas === 1
      ? [natsConfig({ serverName: names[0]!, port: clientPorts[0]!, storeDir: storeDirs[0]! })]
      : natsClusterConfigs(names, { client: clientPorts, route: routePorts }, storeDirs, 'peers-bench')
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

async function runReplicas(context: RunContext, replicas: 1 | 3, natsServer: string): Promise<PeerMeasurement[]> {
  const servers = await startServers(context, replicas, natsServer)
  let nc: NatsConnection | undefined
  try {
    nc = await connect({ servers: servers.ports.map((port) => `127.0.0.1:${port}`), maxReconnectAttempts: 10 })
    await createStream(nc, replicas)
    const js = nc.jetstream()
    const payload = new Uint8Array(context.sizeBytes).fill(120)
    const peer = `NATS JetStream R${replicas}`
    const conditions = `${replicas === 1 ? '1 server' : '3 servers'}, ${replicas} replica${replicas === 1 ? '' : 's'}, ${FSYNC_NOTE}`
    context.log(`nats R${replicas}: js.publish`)
    const single = await runClosedLoop(context, async () => {
      await js.publish(SUBJECT, payload)
      return 1
    })
    context.log(`nats R${replicas}: ${ENQUEUE_BATCH} pipelined js.publish`)
    const batch = await runClosedLoop(context, async () => {
      await Promise.all(Array.from({ length: ENQUEUE_BATCH }, () => js.publish(SUBJECT, payload)))
      return ENQUEUE_BATCH
    })
    context.log(`nats R${replicas}: fetch + ackAck`)
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
      { workload: 'enqueue-1', peer, conditions: `${conditions}; js.publish`, result: single },
      { workload: 'enqueue-100', peer, conditions: `${conditions}; ${ENQUEUE_BATCH} js.publish in flight (no batch API)`, result: batch },
      { workload: 'consume-ack', peer, conditions: `${conditions}; pull fetch ${RECEIVE_BATCH} + ackAck each`, result: consume },
    ]
  } finally {
    context.log(`nats R${replicas}: stopping`)
    await nc?.close()
    context.log(`nats R${replicas}: client closed`)
    await stopAll(servers.processes)
  }
}

export async function runNats(context: RunContext): Promise<PeerMeasurement[]> {
  const paths = await ensureBinaries([BINARIES.nats], context)
  const natsServer = paths.get(BINARIES.nats.command)!
  return [...(await runReplicas(context, 1, natsServer)), ...(await runReplicas(context, 3, natsServer))]
}
