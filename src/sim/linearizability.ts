// A linearizability checker after Wing & Gong, with Lowe's memoization:
// depth-first search for a total order of the operations that respects real
// time (an operation that returned before another was called comes first)
// and the sequential model. The search walks a list of call and return
// events; at a call it tries to linearize that operation now, at a return it
// must backtrack because the operation had to take effect before returning.
// A cache of (set of linearized operations, model state) prunes configurations
// already seen, which is what makes histories of thousands of operations
// tractable. Histories are split by the model's partition key first
// (P-compositionality, e.g. one KV key per partition).
//
// Unknown outcomes: an operation with no answer returns "at infinity". It may
// be linearized anywhere after its call, or never; the search stops as soon as
// every operation with a known answer is linearized. Many pending writes make
// the search exponential, so a partition is first checked without the
// unknown operations, then with only those the model says may matter (a
// write whose value some read returned), and only then with all of them. A
// linearization found in an earlier stage is valid for the whole history (the
// operations left out simply never took effect); only the last stage can say
// "not linearizable".
import { isCompleted, type HistoryOperation } from './history.js'
import type { SequentialModel } from './sequential-model.js'

export interface LinearizabilityOptions {
  /** Search configurations per partition before giving up with `budget-exceeded`. */
  maxStatesPerPartition?: number
  /** Operations of the linearizable prefix shown in a failure explanation. */
  explanationOperationsMax?: number
}

export const defaultLinearizabilityOptions: Required<LinearizabilityOptions> = {
  // 500,000 left one seed in 4,000 inconclusive (8 clients on one key, 13
  // unknown writes: seed 300959); 5,000,000 settles it in about 7 s.
  maxStatesPerPartition: 5_000_000,
  explanationOperationsMax: 24,
}

export type LinearizabilityResult =
  | {
      verdict: 'linearizable'
      partitions: number
      /** Operations checked (unknown-outcome reads are dropped first). */
      operations: number
      statesExplored: number
    }
  | {
      verdict: 'not-linearizable'
      partition: string
      /** Ids of the longest linearizable prefix found, in linearization order. */
      longestPrefix: number[]
      /** The operation that could not be placed after that prefix. */
      blockedOperationId: number
      explanation: string
      statesExplored: number
    }
  | {
      verdict: 'budget-exceeded'
      partition: string
      statesExplored: number
      explanation: string
    }

const nil = -1

/** Checks a whole history against `model`, partition by partition. */
export function checkLinearizability<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  history: readonly HistoryOperation<Input, Output>[],
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const settings = { ...defaultLinearizabilityOptions, ...options }
  const partitions = new Map<string, HistoryOperation<Input, Output>[]>()
  let operations = 0
  for (const op of history) {
    if (!isCompleted(op) && model.isReadOnly(op.input)) continue
    const key = model.partitionKey(op.input)
    let list = partitions.get(key)
    if (list === undefined) partitions.set(key, (list = []))
    list.push(op)
    operations++
  }
  let statesExplored = 0
  const keys = [...partitions.keys()].sort()
  for (const key of keys) {
    const result = checkPartitionInStages(model, key, partitions.get(key)!, settings)
    statesExplored += result.statesExplored
    if (result.verdict !== 'linearizable') return { ...result, statesExplored }
  }
  return { verdict: 'linearizable', partitions: keys.length, operations, statesExplored }
}

function checkPartitionInStages<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  partition: string,
  ops: HistoryOperation<Input, Output>[],
  settings: Required<LinearizabilityOptions>,
): LinearizabilityResult {
  const completed = ops.filter((op) => isCompleted(op))
  const unknown = ops.filter((op) => !isCompleted(op))
  const stages: HistoryOperation<Input, Output>[][] = []
  if (unknown.length > 0) {
    stages.push(completed)
    const mayMatter = model.unknownThatMayMatter?.(unknown, completed)
    if (mayMatter !== undefined && mayMatter.length > 0 && mayMatter.length < unknown.length) {
      const keep = new Set(mayMatter)
      stages.push(ops.filter((op) => isCompleted(op) || keep.has(op)))
    }
  }
  let statesExplored = 0
  for (const stageOps of stages) {
    const result = checkPartition(model, partition, stageOps, settings)
    statesExplored += result.statesExplored
    if (result.verdict === 'linearizable') return { ...result, statesExplored }
  }
  const result = checkPartition(model, partition, ops, settings)
  return { ...result, statesExplored: statesExplored + result.statesExplored }
}

interface PartitionSearch<State> {
  states: State[]
  statesKey: string
}

function checkPartition<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  partition: string,
  ops: HistoryOperation<Input, Output>[],
  settings: Required<LinearizabilityOptions>,
): LinearizabilityResult {
  const count = ops.length
  const entryCount = 2 * count
  // Event e < count is the call of ops[e]; e >= count is the return of ops[e - count].
  const events = new Int32Array(entryCount)
  for (let e = 0; e < entryCount; e++) events[e] = e
  const eventTime = (e: number): number =>
    e < count ? ops[e]!.callTime : (ops[e - count]!.returnTime ?? Number.POSITIVE_INFINITY)
  // Calls before returns at equal times: such operations count as concurrent.
  events.sort((a, b) => eventTime(a) - eventTime(b) || Number(a >= count) - Number(b >= count) || a - b)

  const head = entryCount
  const next = new Int32Array(entryCount + 1)
  const prev = new Int32Array(entryCount + 1)
  let last = head
  for (const e of events) {
    next[last] = e
    prev[e] = last
    last = e
  }
  next[last] = nil
  const unlink = (e: number): void => {
    next[prev[e]!] = next[e]!
    if (next[e] !== nil) prev[next[e]!] = prev[e]!
  }
  const relink = (e: number): void => {
    next[prev[e]!] = e
    if (next[e] !== nil) prev[next[e]!] = e
  }

  // Zobrist hashing of the linearized set: two 32-bit words per operation.
  const zobrist = new Uint32Array(2 * count)
  let seed = 0x9e3779b9
  for (let i = 0; i < zobrist.length; i++) {
    seed = (seed + 0x6d2b79f5) >>> 0
    let z = seed
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    zobrist[i] = (z ^ (z >>> 14)) >>> 0
  }
  const linearized = new Uint32Array(Math.ceil(count / 32))
  let hashLow = 0
  let hashHigh = 0
  const toggle = (op: number): void => {
    linearized[op >>> 5]! ^= 1 << (op & 31)
    hashLow ^= zobrist[2 * op]!
    hashHigh ^= zobrist[2 * op + 1]!
  }

  const cache = new Map<string, Uint32Array[]>()
  let statesExplored = 0
  const remember = (statesKey: string): boolean => {
    const key = `${hashLow},${hashHigh},${statesKey}`
    const seen = cache.get(key)
    if (seen !== undefined) {
      for (const bits of seen) if (sameBits(bits, linearized)) return false
      seen.push(linearized.slice())
    } else cache.set(key, [linearized.slice()])
    statesExplored++
    return true
  }

  const advance = (from: PartitionSearch<State>, op: HistoryOperation<Input, Output>): PartitionSearch<State> | null => {
    const byKey = new Map<string, State>()
    for (const state of from.states) {
      for (const nextState of model.step(state, op.input, op.output)) byKey.set(model.stateKey(nextState), nextState)
    }
    if (byKey.size === 0) return null
    const keys = [...byKey.keys()].sort()
    return { states: keys.map((k) => byKey.get(k)!), statesKey: keys.join('\u0001') }
  }

  const initial = model.initialState(partition)
  let search: PartitionSearch<State> = { states: [initial], statesKey: model.stateKey(initial) }
  let remainingCompleted = ops.filter((op) => isCompleted(op)).length
  const stack: { call: number; before: PartitionSearch<State> }[] = []
  let longest: number[] = []
  let longestStates = search.states
  let blocked = nil

  let entry = next[head]!
  while (remainingCompleted > 0) {
    if (entry === nil) throw new Error('linearizability search ran off the event list')
    if (entry < count) {
      const op = ops[entry]!
      const after = advance(search, op)
      if (after !== null) {
        toggle(entry)
        if (remember(after.statesKey)) {
          stack.push({ call: entry, before: search })
          search = after
          unlink(entry)
          unlink(entry + count)
          if (isCompleted(op)) remainingCompleted--
          if (stack.length > longest.length) {
            longest = stack.map((s) => s.call)
            longestStates = search.states
            blocked = nil
          }
          if (statesExplored > settings.maxStatesPerPartition) {
            return {
              verdict: 'budget-exceeded',
              partition,
              statesExplored,
              explanation: `partition ${JSON.stringify(partition)}: gave up after ${statesExplored} configurations (${count} operations)`,
            }
          }
          entry = next[head]!
          continue
        }
        toggle(entry)
      }
      entry = next[entry]!
    } else {
      if (blocked === nil && stack.length === longest.length) blocked = entry - count
      const top = stack.pop()
      if (top === undefined) {
        const blockedOp = ops[blocked === nil ? entry - count : blocked]!
        return {
          verdict: 'not-linearizable',
          partition,
          longestPrefix: longest.map((i) => ops[i]!.id),
          blockedOperationId: blockedOp.id,
          explanation: explain(model, partition, ops, longest, longestStates, blockedOp, settings),
          statesExplored,
        }
      }
      relink(top.call + count)
      relink(top.call)
      toggle(top.call)
      if (isCompleted(ops[top.call]!)) remainingCompleted++
      search = top.before
      entry = next[top.call]!
    }
  }
  return { verdict: 'linearizable', partitions: 1, operations: count, statesExplored }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** One line per operation: `#id client c [call..return] description`. */
export function describeHistoryOperation<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  op: HistoryOperation<Input, Output>,
): string {
  const time = (t: number): string => String(Math.round(t * 1000) / 1000)
  const end = op.returnTime === undefined ? '?' : time(op.returnTime)
  return `#${op.id} client ${op.clientId} [${time(op.callTime)}..${end}] ${model.describeOperation(op.input, op.output)}`
}

function explain<State, Input, Output>(
  model: SequentialModel<State, Input, Output>,
  partition: string,
  ops: HistoryOperation<Input, Output>[],
  longest: number[],
  states: State[],
  blocked: HistoryOperation<Input, Output>,
  settings: Required<LinearizabilityOptions>,
): string {
  const shown = longest.slice(-settings.explanationOperationsMax)
  const lines = [
    `partition ${JSON.stringify(partition)}: not linearizable (${ops.length} operations)`,
    `longest linearizable prefix: ${longest.length} operations${shown.length < longest.length ? `, last ${shown.length} shown` : ''}:`,
    ...shown.map((i) => `  ${describeHistoryOperation(model, ops[i]!)}`),
    `state after it: ${states.map((s) => model.describeState(s)).join(' | ')}`,
    `cannot place: ${describeHistoryOperation(model, blocked)}`,
  ]
  return lines.join('\n')
}
