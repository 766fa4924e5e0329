import t from 'tap'
import fc from 'fast-check'
import { checkLinearizability } from '../../src/sim/linearizability.js'
import { kvModel } from '../../src/sim/kv-model.js'
import { HistoryRecorder, type KvInput, type KvOperation, type KvOutput } from '../../src/sim/history.js'

let nextId = 0
function op(clientId: number, callTime: number, returnTime: number | null, input: KvInput, output?: KvOutput): KvOperation {
  const record: KvOperation = { id: nextId++, clientId, callTime, input }
  if (returnTime !== null && output !== undefined) {
    record.returnTime = returnTime
    record.output = output
  }
  return record
}
const put = (key: string, value: string): KvInput => ({ kind: 'put', key, value })
const get = (key: string): KvInput => ({ kind: 'get', key })
const del = (key: string): KvInput => ({ kind: 'delete', key })
const cas = (key: string, expectedVersion: number, value: string): KvInput => ({ kind: 'cas', key, expectedVersion, value })
const read = (value: string | null, version?: number): KvOutput =>
  version === undefined ? { kind: 'get', value } : { kind: 'get', value, version }
const wrote = (version?: number): KvOutput => (version === undefined ? { kind: 'put' } : { kind: 'put', version })

const verdict = (history: KvOperation[]) => checkLinearizability(kvModel, history).verdict

t.test('sequential put then get is linearizable', async (t) => {
  t.equal(verdict([op(1, 0, 1, put('k', 'a'), wrote(1)), op(1, 2, 3, get('k'), read('a', 1))]), 'linearizable')
})

t.test('a read of an overwritten value after the overwrite returned is rejected', async (t) => {
  const result = checkLinearizability(kvModel, [
    op(1, 0, 1, put('k', 'a'), wrote()),
    op(1, 2, 3, put('k', 'b'), wrote()),
    op(2, 4, 5, get('k'), read('a')),
  ])
  t.equal(result.verdict, 'not-linearizable')
  if (result.verdict === 'not-linearizable') {
    t.equal(result.partition, 'k')
    t.match(result.explanation, /cannot place: #\d+ client 2 \[4\.\.5\] get\(k\) -> a/)
  }
})

t.test('a read concurrent with a write may see either value', async (t) => {
  t.equal(
    verdict([
      op(1, 0, 10, put('k', 'a'), wrote()),
      op(2, 1, 2, get('k'), read(null)),
      op(3, 3, 4, get('k'), read('a')),
    ]),
    'linearizable',
  )
})

t.test('once a concurrent write is seen, a later read cannot miss it', async (t) => {
  t.equal(
    verdict([
      op(1, 0, 10, put('k', 'a'), wrote()),
      op(2, 1, 2, get('k'), read('a')),
      op(3, 3, 4, get('k'), read(null)),
    ]),
    'not-linearizable',
  )
})

t.test('an operation with unknown outcome may take effect', async (t) => {
  t.equal(
    verdict([op(1, 0, null, put('k', 'a')), op(2, 50, 51, get('k'), read('a')), op(2, 52, 53, get('k'), read('a'))]),
    'linearizable',
  )
})

t.test('an operation with unknown outcome may never take effect', async (t) => {
  t.equal(verdict([op(1, 0, null, put('k', 'a')), op(2, 50, 51, get('k'), read(null))]), 'linearizable')
})

t.test('an operation with unknown outcome takes effect at most once and not before its call', async (t) => {
  t.equal(
    verdict([op(1, 0, null, put('k', 'a')), op(2, 50, 51, get('k'), read('a')), op(2, 52, 53, get('k'), read(null))]),
    'not-linearizable',
  )
  t.equal(verdict([op(2, 0, 1, get('k'), read('a')), op(1, 5, null, put('k', 'a'))]), 'not-linearizable')
})

t.test('versions must match the write that produced the value', async (t) => {
  t.equal(verdict([op(1, 0, 1, put('k', 'a'), wrote(7)), op(1, 2, 3, get('k'), read('a', 8))]), 'not-linearizable')
  t.equal(
    verdict([op(1, 0, null, put('k', 'a')), op(1, 2, 3, get('k'), read('a', 9)), op(1, 4, 5, get('k'), read('a', 9))]),
    'linearizable',
    'a read learns the version of a write whose answer was lost',
  )
  t.equal(
    verdict([op(1, 0, null, put('k', 'a')), op(1, 2, 3, get('k'), read('a', 9)), op(1, 4, 5, get('k'), read('a', 10))]),
    'not-linearizable',
  )
})

t.test('a conditional delete removes only the expected version', async (t) => {
  const delIf = (key: string, expectedVersion: number): KvInput => ({ kind: 'delete', key, expectedVersion })
  t.equal(
    verdict([
      op(1, 0, 1, put('k', 'a'), wrote(4)),
      op(1, 2, 3, delIf('k', 3), { kind: 'delete', existed: true, conflict: true }),
      op(1, 4, 5, delIf('k', 4), { kind: 'delete', existed: true, version: 4 }),
      op(1, 6, 7, get('k'), read(null)),
    ]),
    'linearizable',
  )
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote(4)), op(1, 2, 3, delIf('k', 4), { kind: 'delete', existed: true, conflict: true })]),
    'not-linearizable',
  )
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote(4)), op(1, 2, 3, del('k'), { kind: 'delete', existed: true, version: 5 })]),
    'not-linearizable',
    'the deleted version must be the current one',
  )
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote(4)), op(1, 2, null, delIf('k', 4)), op(1, 9, 10, get('k'), read(null))]),
    'linearizable',
    'an unknown conditional delete may have applied',
  )
})

t.test('delete reports whether the key existed', async (t) => {
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote()), op(1, 2, 3, del('k'), { kind: 'delete', existed: true })]),
    'linearizable',
  )
  t.equal(verdict([op(1, 0, 1, del('k'), { kind: 'delete', existed: true })]), 'not-linearizable')
  t.equal(
    verdict([
      op(1, 0, 1, put('k', 'a'), wrote()),
      op(1, 2, 3, del('k'), { kind: 'delete', existed: true }),
      op(1, 4, 5, get('k'), read('a')),
    ]),
    'not-linearizable',
  )
})

t.test('compare-and-set succeeds only on the expected version', async (t) => {
  t.equal(
    verdict([
      op(1, 0, 1, put('k', 'a'), wrote(1)),
      op(1, 2, 3, cas('k', 1, 'b'), { kind: 'cas', ok: true, version: 2 }),
      op(1, 4, 5, cas('k', 1, 'c'), { kind: 'cas', ok: false }),
      op(1, 6, 7, get('k'), read('b', 2)),
    ]),
    'linearizable',
  )
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote(1)), op(1, 2, 3, cas('k', 1, 'b'), { kind: 'cas', ok: false })]),
    'not-linearizable',
  )
  t.equal(verdict([op(1, 0, 1, cas('k', 0, 'b'), { kind: 'cas', ok: true, version: 1 })]), 'linearizable', 'version 0 creates')
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote(1)), op(1, 2, 3, cas('k', 0, 'b'), { kind: 'cas', ok: true, version: 3 })]),
    'not-linearizable',
    'version 0 only when absent',
  )
  t.equal(
    verdict([
      op(1, 0, null, put('k', 'a')),
      op(2, 5, 6, cas('k', 3, 'b'), { kind: 'cas', ok: true, version: 4 }),
      op(2, 7, 8, get('k'), read('b', 4)),
    ]),
    'linearizable',
    'a compare-and-set after a write with unknown version may succeed',
  )
})

t.test('keys are checked independently and a failure names its key', async (t) => {
  const result = checkLinearizability(kvModel, [
    op(1, 0, 1, put('x', 'a'), wrote()),
    op(1, 0, 1, put('y', 'b'), wrote()),
    op(1, 2, 3, get('x'), read('a')),
    op(1, 2, 3, get('y'), read(null)),
  ])
  t.equal(result.verdict, 'not-linearizable')
  if (result.verdict === 'not-linearizable') t.equal(result.partition, 'y')
  const ok = checkLinearizability(kvModel, [op(1, 0, 1, put('x', 'a'), wrote()), op(1, 2, 3, get('x'), read('a'))])
  t.same(ok.verdict === 'linearizable' && ok.partitions, 1)
})

t.test('many unanswered writes that nobody observed do not blow up the search', async (t) => {
  const history: KvOperation[] = []
  for (let i = 0; i < 40; i++) history.push(op(i, i, null, put('k', `lost${i}`)))
  history.push(op(100, 0, 1, put('k', 'a'), wrote()))
  for (let i = 0; i < 40; i++) history.push(op(200 + i, 50 + 2 * i, 51 + 2 * i, get('k'), read('a')))
  const result = checkLinearizability(kvModel, history, { maxStatesPerPartition: 2_000 })
  t.equal(result.verdict, 'linearizable')
})

t.test('an unanswered write that a read observed is still used', async (t) => {
  const history: KvOperation[] = []
  for (let i = 0; i < 30; i++) history.push(op(i, i, null, put('k', `w${i}`)))
  history.push(op(100, 60, 61, get('k'), read('w7')))
  history.push(op(101, 62, 63, get('k'), read('w7')))
  t.equal(checkLinearizability(kvModel, history, { maxStatesPerPartition: 2_000 }).verdict, 'linearizable')
  // Proving a negative still needs the full search, exponential in the pending writes: keep it small.
  const small = history.filter((o) => o.output !== undefined || (o.input.kind === 'put' && ['w3', 'w7', 'w8', 'w9'].includes(o.input.value)))
  small.push(op(102, 64, 65, get('k'), read('w3')), op(103, 66, 67, get('k'), read('w7')))
  t.equal(checkLinearizability(kvModel, small).verdict, 'not-linearizable', 'w7, then w3, then w7 again needs w7 twice')
})

t.test('an unanswered delete may explain a read of nothing', async (t) => {
  t.equal(
    verdict([op(1, 0, 1, put('k', 'a'), wrote()), op(2, 2, null, del('k')), op(3, 10, 11, get('k'), read(null))]),
    'linearizable',
  )
})

t.test('a search beyond its budget says so instead of answering', async (t) => {
  const history: KvOperation[] = []
  for (let i = 0; i < 12; i++) history.push(op(i, 0, 100, put('k', `v${i}`), wrote()))
  history.push(op(99, 101, 102, get('k'), read('nobody-wrote-this')))
  t.equal(checkLinearizability(kvModel, history, { maxStatesPerPartition: 50 }).verdict, 'budget-exceeded')
})

t.test('the recorder turns open operations into unknown outcomes', async (t) => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>(3)
  const a = recorder.invoke(1, put('k', 'a'), 0)
  const b = recorder.invoke(2, get('k'), 1)
  recorder.complete(b, read('a'), 2)
  recorder.fail(a)
  const ops = recorder.operations()
  t.equal(ops[0]!.output, undefined)
  t.equal(ops[1]!.returnTime, 2)
  t.equal(checkLinearizability(kvModel, ops).verdict, 'linearizable')
  t.throws(() => recorder.complete(a, wrote(), 3), { code: 'HISTORY_NOT_OPEN' })
  recorder.invoke(3, get('k'), 3)
  t.throws(() => recorder.invoke(4, get('k'), 4), { code: 'HISTORY_FULL' })
})

// Property tests: histories cut from a sequential execution, each operation
// stretched into a random interval around its linearization point.
interface Step {
  kind: 'get' | 'put' | 'delete' | 'cas'
  key: string
  casHits: boolean
  earlierBy: number
  laterBy: number
  /** 0: unknown and applied, 1: unknown and not applied, else known. */
  outcome: number
}
const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('get', 'put', 'delete', 'cas'),
  key: fc.constantFrom('a', 'b', 'c'),
  casHits: fc.boolean(),
  earlierBy: fc.nat(25),
  laterBy: fc.nat(25),
  outcome: fc.nat(11),
})

interface Generated {
  history: KvOperation[]
  /** For each operation, whether it changed its key (a write that took effect). */
  wroteValue: (string | null)[]
  versions: (number | undefined)[]
}

function execute(steps: Step[]): Generated {
  const store = new Map<string, { value: string; version: number }>()
  let versionCounter = 0
  const history: KvOperation[] = []
  const wroteValue: (string | null)[] = []
  const versions: (number | undefined)[] = []
  steps.forEach((s, i) => {
    const point = i * 10 + 5
    const current = store.get(s.key)
    let input: KvInput
    let output: KvOutput
    let effect: (() => void) | null = null
    let written: string | null = null
    let version: number | undefined
    switch (s.kind) {
      case 'get':
        input = get(s.key)
        output = current === undefined ? read(null) : read(current.value, current.version)
        break
      case 'put':
        input = put(s.key, `v${i}`)
        version = ++versionCounter
        output = wrote(version)
        written = `v${i}`
        effect = () => store.set(s.key, { value: `v${i}`, version: version! })
        break
      case 'delete':
        input = del(s.key)
        output = current === undefined ? { kind: 'delete', existed: false } : { kind: 'delete', existed: true, version: current.version }
        written = ''
        effect = () => store.delete(s.key)
        break
      case 'cas': {
        const expected = (current?.version ?? 0) + (s.casHits ? 0 : 1000)
        input = cas(s.key, expected, `v${i}`)
        const ok = (current?.version ?? 0) === expected
        if (ok) {
          version = ++versionCounter
          written = `v${i}`
          effect = () => store.set(s.key, { value: `v${i}`, version: version! })
        }
        output = ok ? { kind: 'cas', ok, version: version! } : { kind: 'cas', ok }
        break
      }
    }
    const unknown = s.outcome <= 1 && s.kind !== 'get'
    if (!(unknown && s.outcome === 1) && effect !== null) effect()
    history.push(op(i, point - s.earlierBy, unknown ? null : point + s.laterBy, input, output))
    wroteValue.push(unknown ? null : written)
    versions.push(version)
  })
  return { history, wroteValue, versions }
}

t.test('property: histories of a sequential execution with overlapping intervals are linearizable', async (t) => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 80 }), (steps) => {
      const { history } = execute(steps)
      const result = checkLinearizability(kvModel, history)
      if (result.verdict !== 'linearizable') throw new Error(JSON.stringify(result))
    }),
    { numRuns: 300, seed: 4242 },
  )
  t.pass('300 generated histories accepted')
})

t.test('property: a stale read injected after an overwrite is rejected', async (t) => {
  let rejected = 0
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 10, maxLength: 80 }), fc.nat(), (steps, pick) => {
      const { history, wroteValue, versions } = execute(steps)
      // Find (P, W, G) on one key: P wrote u and returned before W was called,
      // W overwrote it and returned before G was called; G then reads u.
      const triples: [number, number, number][] = []
      for (let g = 0; g < history.length; g++) {
        const G = history[g]!
        if (G.input.kind !== 'get' || G.returnTime === undefined) continue
        for (let w = 0; w < g; w++) {
          const W = history[w]!
          if (W.input.key !== G.input.key || wroteValue[w] === null || W.returnTime! >= G.callTime) continue
          for (let p = 0; p < w; p++) {
            const P = history[p]!
            const u = wroteValue[p]
            if (P.input.key !== G.input.key || u === null || u === '' || P.returnTime! >= W.callTime) continue
            triples.push([p, w, g])
          }
        }
      }
      fc.pre(triples.length > 0)
      const [p, , g] = triples[pick % triples.length]!
      const stale = history.map((o) => ({ ...o }))
      const version = versions[p]
      stale[g]!.output = version === undefined ? read(wroteValue[p]!) : read(wroteValue[p]!, version)
      const result = checkLinearizability(kvModel, stale)
      if (result.verdict !== 'not-linearizable') throw new Error(`accepted a stale read: ${JSON.stringify(result)}`)
      rejected++
    }),
    { numRuns: 200, seed: 777 },
  )
  t.ok(rejected >= 100, `rejected ${rejected} stale histories`)
})

t.test('a history of a few thousand concurrent operations checks', async (t) => {
  const rng = (() => {
    let s = 12345
    return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32)
  })()
  const steps: Step[] = []
  for (let i = 0; i < 3000; i++) {
    steps.push({
      kind: (['get', 'get', 'put', 'cas', 'delete'] as const)[Math.floor(rng() * 5)]!,
      key: `k${Math.floor(rng() * 8)}`,
      casHits: rng() < 0.7,
      earlierBy: Math.floor(rng() * 40),
      laterBy: Math.floor(rng() * 40),
      outcome: Math.floor(rng() * 30),
    })
  }
  const result = checkLinearizability(kvModel, execute(steps).history)
  t.equal(result.verdict, 'linearizable')
})
