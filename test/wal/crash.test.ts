// kill -9 while many shards append: every write confirmed durable is read back after
// restart, and nothing torn or mixed up is ever returned.
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Wal } from '../../src/wal/index.js'
import { payloadFor, tempDir } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/append-writer.js', import.meta.url))
const SHARDS = 16
const ROUNDS = 3

interface Ack {
  shard: number
  from: number
  to: number
  term: number
  snapshotIndex: number
}

/** Runs the writer until it has confirmed `minAcks` more writes plus a random extra delay, then SIGKILLs it. */
function runAndKill(dir: string, minAcks: number, extraMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, dir, String(SHARDS)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const acks: Ack[] = []
    let buffered = ''
    let stderr = ''
    let killTimer: NodeJS.Timeout | undefined
    // A bound in case the child never gets going: kill it anyway and let the checks fail.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        const parts = line.split(' ')
        if (parts[0] !== 'ack') continue
        const [shard, from, to, term, snapshotIndex] = parts.slice(1).map(Number) as [number, number, number, number, number]
        acks.push({ shard, from, to, term, snapshotIndex })
      }
      if (acks.length >= minAcks && killTimer === undefined) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), extraMs)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog)
      clearTimeout(killTimer)
      if (signal !== 'SIGKILL') reject(new Error(`writer exited with ${code ?? signal}: ${stderr}`))
      else resolve(acks)
    })
  })
}

t.test('every confirmed write survives kill -9, and nothing torn is returned', async (t) => {
  const dir = await tempDir(t)
  const acked: Ack[] = []
  let segmentsDeleted = 0
  for (let round = 0; round < ROUNDS; round++) {
    const extraMs = Math.floor(Math.random() * 300)
    const acks = await runAndKill(dir, 200, extraMs)
    t.ok(acks.length >= 200, `round ${round}: ${acks.length} writes confirmed before the kill (+${extraMs} ms)`)
    acked.push(...acks)

    const wal = await Wal.open({ dir, segmentBytesMax: 32 * 1024 })
    t.same(wal.recovery.uncoveredGaps, [], 'no entries missing from the middle of any log')
    const problems: string[] = []
    const logs = new Map<number, Map<number, number>>()
    for (let shard = 0; shard < SHARDS; shard++) {
      const state = wal.shardState(shard)
      const read = state.lastIndex >= state.firstIndex ? await wal.readEntries(shard, state.firstIndex, state.lastIndex + 1, Infinity) : []
      const terms = new Map<number, number>()
      let previousTerm = state.snapshotTerm
      for (const e of read) {
        if (!Buffer.from(e.payload).equals(payloadFor(shard, e.index, e.term))) problems.push(`shard ${shard} entry ${e.index}: payload differs`)
        if (e.term < previousTerm) problems.push(`shard ${shard} entry ${e.index}: term goes down`)
        previousTerm = e.term
        terms.set(e.index, e.term)
      }
      logs.set(shard, terms)
    }
    for (const ack of acked) {
      const state = wal.shardState(ack.shard)
      if (state.snapshotIndex < ack.snapshotIndex) problems.push(`shard ${ack.shard}: snapshot mark ${ack.snapshotIndex} lost`)
      if ((state.hardState?.term ?? 0) < ack.term) problems.push(`shard ${ack.shard}: hard state term ${ack.term} lost`)
      for (let i = Math.max(ack.from, state.snapshotIndex + 1); i <= ack.to; i++) {
        const term = logs.get(ack.shard)!.get(i)
        // A confirmed entry may only be replaced by a higher term (a later overwrite).
        const replaced = term === undefined ? state.lastTerm > ack.term : term > ack.term
        if (term !== ack.term && !replaced) problems.push(`shard ${ack.shard} entry ${i} (term ${ack.term}) lost`)
      }
    }
    t.same(problems.slice(0, 10), [], `round ${round}: all ${acked.length} confirmed writes intact`)
    // Sequences start at 1 and the new active segment is the last: the rest were deleted.
    segmentsDeleted = wal.stats().activeSegment - wal.stats().segments
    await wal.close()
  }
  t.ok(segmentsDeleted > 0, `${segmentsDeleted} segments were deleted along the way`)
})
