// A KV history recorded against three real processes while the node leading
// most shards is killed with SIGKILL, checked with the simulator's
// linearizability checker (src/sim/linearizability.ts). Writes whose answer
// never came (timeout, dropped connection) have an unknown outcome; a refusal
// that is known not to have applied (503) is dropped from the history. Once
// with each read mode: ReadIndex (the default) and the leader lease
// (`--reads lease-based`).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { HistoryRecorder, type KvInput, type KvOutput } from '../../src/sim/history.js'
import { kvModel } from '../../src/sim/kv-model.js'
import { checkLinearizability } from '../../src/sim/linearizability.js'
import { busiestLeader, isAlive, planThreeNodes, type NodeProcess } from './helpers.js'

const keys = ['alpha', 'beta', 'gamma']

type Outcome = { kind: 'ok'; output: KvOutput } | { kind: 'not-applied' } | { kind: 'unknown' }

async function run(node: NodeProcess, input: KvInput): Promise<Outcome> {
  try {
    if (input.kind === 'put') {
      const response = await fetch(`http://${node.http}/v1/kv/${input.key}`, { method: 'PUT', body: input.value, signal: AbortSignal.timeout(5_000) })
      const body = await response.text()
      if (response.status === 200) return { kind: 'ok', output: { kind: 'put', version: (JSON.parse(body) as { version: number }).version } }
      return response.status === 503 ? { kind: 'not-applied' } : { kind: 'unknown' }
    }
    const response = await fetch(`http://${node.http}/v1/kv/${input.key}`, { signal: AbortSignal.timeout(5_000) })
    const body = await response.text()
    if (response.status === 200) return { kind: 'ok', output: { kind: 'get', value: body, version: Number(response.headers.get('x-version')) } }
    if (response.status === 404) return { kind: 'ok', output: { kind: 'get', value: null } }
    return { kind: 'not-applied' } // a read that failed changed nothing
  } catch {
    return input.kind === 'get' ? { kind: 'not-applied' } : { kind: 'unknown' }
  }
}

for (const reads of ['safe', 'lease-based'] as const) {
  t.test(`a KV history with a leader killed mid-run is linearizable (reads ${reads})`, { timeout: 240_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'troupe-lin-'))
    const plan = await planThreeNodes(dir, ['--reads', reads])
    t.teardown(async () => {
      for (const node of plan.nodes) if (isAlive(node)) node.child.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
    })
    const nodes = [1, 2, 3].map((id) => plan.start(id))
    await Promise.all(nodes.map((n) => n.ready))
    const history = new HistoryRecorder<KvInput, KvOutput>()
    const started = performance.now()
    let stop = false
    let completedAfterKill = 0
    let killed = false
    const clients = Array.from({ length: 6 }, async (_, client) => {
      let target = client % 3
      for (let n = 0; !stop; n++) {
        const node = plan.nodes[target]!
        if (!isAlive(node)) {
          target = (target + 1) % 3
          continue
        }
        const key = keys[(client + n) % keys.length]!
        const input: KvInput = n % 3 === 0 ? { kind: 'get', key } : { kind: 'put', key, value: `c${client}-${n}` }
        const id = history.invoke(client, input, performance.now() - started)
        const outcome = await run(node, input)
        if (outcome.kind === 'ok') {
          history.complete(id, outcome.output, performance.now() - started)
          if (killed) completedAfterKill++
        } else if (outcome.kind === 'not-applied') history.cancel(id)
        else {
          history.fail(id)
          target = (target + 1) % 3
        }
      }
    })
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const { id: victim } = await busiestLeader(nodes[0]!)
    plan.nodes[victim - 1]!.child.kill('SIGKILL')
    killed = true
    await new Promise((resolve) => setTimeout(resolve, 4_000))
    stop = true
    await Promise.all(clients)

    const operations = history.operations()
    t.ok(completedAfterKill > 50, `${completedAfterKill} operations completed after node ${victim} was killed`)
    const result = checkLinearizability(kvModel, operations)
    t.equal(result.verdict, 'linearizable', `${operations.length} operations checked`)
    if (result.verdict !== 'linearizable') t.comment(JSON.stringify(result).slice(0, 2_000))
  })
}
