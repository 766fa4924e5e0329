// Every member of a cluster serves linearizable reads the same way
// (`readOnly`): a leader lease rests on the other members refusing votes for
// an election timeout, which a member serving ReadIndex reads does not
// promise. Members that differ refuse each other's connections during the
// peer handshake (READS_MISMATCH); a node that is still starting then fails
// at once with INVALID_ARGUMENT, instead of waiting out its ready timeout,
// and the running members go on serving.
import t from 'tap'
import type { TroupeNode } from '../../src/index.js'
import { freePort, refusal, removeDir, startTestNode, tempDir } from './helpers.js'

const dir = await tempDir('troupe-reads-')
const nodes: TroupeNode[] = []
t.teardown(async () => {
  await Promise.all(nodes.map((node) => node.close()))
  await removeDir(dir)
})

const base = { shards: 2, sync: 'none' as const, readyTimeoutMs: 60_000 }

t.test('a member started with another read mode is refused at once; the others go on', async (t) => {
  const ports = [await freePort(), await freePort(), await freePort()]
  const cluster = ports.map((port, i) => `${i + 1}=127.0.0.1:${port}`).join(',')
  const member = (id: number, readOnly: 'safe' | 'lease-based') =>
    startTestNode(`${dir}/node-${id}`, { ...base, id, cluster, peer: `127.0.0.1:${ports[id - 1]}`, readOnly })
  // Nodes 1 and 2 are a majority of three: they elect leaders without node 3.
  const [first, second] = await Promise.all([member(1, 'safe'), member(2, 'safe')])
  nodes.push(first, second)
  await first.kv.put('k', 'before')

  const started = Date.now()
  const refused = await refusal(member(3, 'lease-based'))
  t.equal(refused.code, 'INVALID_ARGUMENT')
  t.match(refused.message, /serves linearizable reads with/)
  t.match(refused.message, /every member must run with the same/)
  t.ok(Date.now() - started < 20_000, `refused in ${Date.now() - started} ms, not at the 60 s ready timeout`)

  await second.kv.put('k', 'after')
  t.equal(Buffer.from((await first.kv.get('k'))!.value).toString(), 'after', 'the two members still serve writes and reads')
  t.same(
    first.nodes().map((n) => [n.id, n.state]),
    [
      [1, 'self'],
      [2, 'up'],
      [3, 'down'],
    ],
  )

  // The same node with the cluster's read mode starts and takes its place.
  const third = await member(3, 'safe')
  nodes.push(third)
  t.equal(Buffer.from((await third.kv.get('k'))!.value).toString(), 'after')
})

t.test('a node that joins with another read mode is refused', async (t) => {
  const first = nodes[0]!
  const started = Date.now()
  const refused = await refusal(startTestNode(`${dir}/joiner`, { ...base, id: 9, peer: '127.0.0.1:0', join: first.nodes()[0]!.peer, readOnly: 'lease-based' }))
  t.equal(refused.code, 'INVALID_ARGUMENT')
  t.match(refused.message, /cannot join the cluster through .*serves linearizable reads with/)
  t.ok(Date.now() - started < 20_000)
})
