// What the linearizability checker needs to know about a data type: its
// sequential specification, possibly nondeterministic (a step may lead to
// several states), and how to split a history into independent parts.
import type { HistoryOperation } from './history.js'

export interface SequentialModel<State, Input, Output> {
  name: string
  initialState(partition: string): State
  /**
   * The states that can follow `state` when `input` answers `output`
   * (`undefined`: the answer is unknown, any legal answer will do).
   * Empty when the answer is impossible. Must not mutate `state`.
   */
  step(state: State, input: Input, output: Output | undefined): State[]
  /** A canonical string: equal states, equal keys. */
  stateKey(state: State): string
  /** Operations on different partitions commute and are checked apart. */
  partitionKey(input: Input): string
  /** A read-only operation with unknown outcome changes nothing and is dropped. */
  isReadOnly(input: Input): boolean
  /**
   * Optional, for speed: of the operations with unknown outcome, those that
   * may be needed to explain the completed ones (e.g. a write whose value a
   * read returned). The checker tries these alone before trying them all.
   */
  unknownThatMayMatter?(
    unknown: readonly HistoryOperation<Input, Output>[],
    completed: readonly HistoryOperation<Input, Output>[],
  ): HistoryOperation<Input, Output>[]
  describeOperation(input: Input, output: Output | undefined): string
  describeState(state: State): string
}
