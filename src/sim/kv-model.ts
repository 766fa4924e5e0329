// The sequential specification of a KV register per key, as the
// linearizability checker needs it. Partitioned by key (P-compositionality:
// a history is linearizable iff each key's sub-history is), so a state is the
// value of one key.
import type { KvInput, KvOutput } from './history.js'
import type { SequentialModel } from './sequential-model.js'

export interface KvKeyState {
  /** `null`: the key does not exist. */
  value: string | null
  /** `null`: no version known (key absent, or written by an operation whose answer was lost). */
  version: number | null
}

const absent: KvKeyState = { value: null, version: null }

function written(value: string, version: number | undefined): KvKeyState {
  return { value, version: version ?? null }
}

/**
 * The next states of one key after `input` answered `output` (`undefined`:
 * unknown outcome). An empty list means the answer is impossible from `state`.
 * A read can teach the model a version it did not know (`refine`): the write
 * that lost its answer did get a version, and the read shows which.
 */
export function stepKv(state: KvKeyState, input: KvInput, output: KvOutput | undefined): KvKeyState[] {
  if (output !== undefined && output.kind !== input.kind) return []
  switch (input.kind) {
    case 'get': {
      if (output === undefined || output.kind !== 'get') return [state]
      if (output.value === null) return state.value === null ? [state] : []
      if (state.value !== output.value) return []
      if (output.version === undefined) return [state]
      if (state.version === null) return [written(output.value, output.version)]
      return state.version === output.version ? [state] : []
    }
    case 'put':
      return [written(input.value, output?.kind === 'put' ? output.version : undefined)]
    case 'delete': {
      const matches = input.expectedVersion === undefined ? true : versionMatches(state, input.expectedVersion)
      if (output === undefined || output.kind !== 'delete') {
        if (matches === 'maybe') return [state, absent]
        return [matches ? absent : state]
      }
      if (output.existed === false) return state.value === null ? [state] : []
      if (state.value === null) return []
      if (output.conflict === true) return matches === true ? [] : [state]
      if (matches === false) return []
      if (output.version !== undefined && state.version !== null && state.version !== output.version) return []
      return [absent]
    }
    case 'cas': {
      const matches = versionMatches(state, input.expectedVersion)
      if (output === undefined || output.kind !== 'cas') {
        const applied = written(input.value, undefined)
        if (matches === 'maybe') return [state, applied]
        return [matches ? applied : state]
      }
      if (output.ok) return matches === false ? [] : [written(input.value, output.version)]
      return matches === true ? [] : [state]
    }
  }
}

/** Whether the key's version is `expected` (0: absent); 'maybe' when a present key's version is unknown. */
function versionMatches(state: KvKeyState, expected: number): boolean | 'maybe' {
  if (state.value === null) return expected === 0
  if (expected === 0) return false
  return state.version === null ? 'maybe' : state.version === expected
}

export const kvModel: SequentialModel<KvKeyState, KvInput, KvOutput> = {
  name: 'kv',
  initialState: () => absent,
  step: stepKv,
  stateKey: (state) => (state.value === null ? `-${state.version ?? ''}` : `${state.version ?? '?'}=${state.value}`),
  partitionKey: (input) => input.key,
  isReadOnly: (input) => input.kind === 'get',
  // An unanswered write matters when a read returned its value (values are
  // unique per write in practice); unanswered deletes are kept (an absent
  // read may need them).
  unknownThatMayMatter: (unknown, completed) => {
    const seen = new Set<string>()
    for (const op of completed) if (op.output?.kind === 'get' && op.output.value !== null) seen.add(op.output.value)
    return unknown.filter((op) => op.input.kind === 'delete' || ((op.input.kind === 'put' || op.input.kind === 'cas') && seen.has(op.input.value)))
  },
  describeOperation: (input, output) => {
    const call =
      input.kind === 'put'
        ? `put(${input.key}, ${input.value})`
        : input.kind === 'cas'
          ? `cas(${input.key}, v${input.expectedVersion}, ${input.value})`
          : input.kind === 'delete' && input.expectedVersion !== undefined
            ? `delete(${input.key}, v${input.expectedVersion})`
            : `${input.kind}(${input.key})`
    return `${call} -> ${output === undefined ? '?' : describeKvOutput(output)}`
  },
  describeState: (state) =>
    state.value === null ? 'absent' : `${state.value}@v${state.version === null ? '?' : state.version}`,
}

function describeKvOutput(output: KvOutput): string {
  switch (output.kind) {
    case 'get':
      return output.value === null ? 'absent' : `${output.value}${output.version === undefined ? '' : `@v${output.version}`}`
    case 'put':
      return output.version === undefined ? 'ok' : `v${output.version}`
    case 'delete':
      if (output.conflict === true) return 'conflict'
      return output.existed === false ? 'absent' : `deleted${output.version === undefined ? '' : ` v${output.version}`}`
    case 'cas':
      return output.ok ? `ok${output.version === undefined ? '' : ` v${output.version}`}` : 'conflict'
  }
}
