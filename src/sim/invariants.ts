// Raft's safety properties (Raft paper, Figure 3), checked as the simulated
// cluster runs. The simulator reports what it observes (a node's Ready, what
// reached its durable storage, what it applied); each observation is checked
// against a global record at once, so a violation stops the run at the event
// that caused it.
//
// - Election safety: at most one leader per term.
// - Log matching: two logs holding an entry with the same index and term hold
//   the same entry there and the same prefix before it. Checked as "each
//   (index, term) has one digest and one preceding term", which implies the
//   prefix property by induction.
// - Leader completeness: a leader of term T holds every entry committed in a
//   term before T (checked once its first Ready as leader is durable).
// - State-machine safety: no two nodes apply different entries (or get
//   different results) at one index.
// - Committed entries are never lost: a node never overwrites its own
//   committed prefix, its durable log up to its durable commit index holds
//   the committed entries when it restarts, and its durable commit index never
//   goes back. (A lagging node may well persist, above its own commit index,
//   an entry a stale leader sent for an index that a newer leader committed
//   with another entry: that is not a loss, the entry will be overwritten.)
// - A node votes for at most one candidate per term, and its durable term
//   never goes back (what a storage that forgets breaks).
import type { Entry, HardState, NodeId } from '../raft/types.js'

export type ViolationCode =
  | 'ELECTION_SAFETY'
  | 'LOG_MATCHING'
  | 'LEADER_COMPLETENESS'
  | 'STATE_MACHINE_SAFETY'
  | 'COMMITTED_ENTRY_LOST'
  | 'DOUBLE_VOTE'
  | 'TERM_REGRESSION'
  | 'LINEARIZABILITY'
  | 'LIVENESS'
  /** The Raft core threw (e.g. its own INVARIANT assertion). */
  | 'CORE_ERROR'
  | 'SIMULATOR'

export class InvariantViolation extends Error {
  readonly code: ViolationCode

  constructor(code: ViolationCode, message: string) {
    super(message)
    this.name = 'InvariantViolation'
    this.code = code
  }
}

/** An entry's identity for comparisons: type, term and a 64-bit hash of the data. */
export function entryDigest(entry: Entry): string {
  let low = 0x811c9dc5
  let high = 0x01000193
  const data = entry.data
  for (let i = 0; i < data.length; i++) {
    low = Math.imul(low ^ data[i]!, 0x01000193) >>> 0
    high = Math.imul(high ^ data[i]!, 0x5bd1e995) >>> 0
  }
  return `${entry.type}/${entry.term}/${data.length}/${low.toString(36)}${high.toString(36)}`
}

interface CommittedEntry {
  term: number
  digest: string
  /** The term of the leader that first committed it. */
  commitTerm: number
}

/** Access to one node's durable log for the checks that need it. */
export interface DurableLogView {
  firstIndex(): number
  lastIndex(): number
  /** Term at index, for firstIndex()-1 <= index <= lastIndex(). */
  term(index: number): number
}

export class SafetyChecker {
  readonly #leaderOfTerm = new Map<number, NodeId>()
  /** `${index}/${term}` → digest and the term of the entry before it (undefined: unknown, after a snapshot). */
  readonly #entries = new Map<string, { digest: string; previousTerm: number | undefined }>()
  /** Committed entries by index (index 0 unused). */
  readonly #committed: (CommittedEntry | undefined)[] = []
  #committedIndex = 0
  readonly #applied = new Map<number, string>()
  readonly #votes = new Map<string, NodeId>()
  readonly #durable = new Map<NodeId, HardState>()

  /** How many terms had a leader so far. */
  get leaderTerms(): number {
    return this.#leaderOfTerm.size
  }

  get committedIndex(): number {
    return this.#committedIndex
  }

  /** A Ready of `node` says it leads `term`. */
  observeLeader(node: NodeId, term: number): void {
    const known = this.#leaderOfTerm.get(term)
    if (known !== undefined && known !== node) {
      throw new InvariantViolation('ELECTION_SAFETY', `two leaders in term ${term}: n${known} and n${node}`)
    }
    this.#leaderOfTerm.set(term, node)
  }

  /**
   * Entries handed to `node`'s state machine as committed while its term is
   * `nodeTerm`. The first node to report an index is normally the leader that
   * committed it (its Ready carries the commit before any message does), so
   * `nodeTerm` becomes the commit term; a later term only makes the leader
   * completeness check look at fewer entries.
   */
  observeCommittedEntries(node: NodeId, entries: readonly Entry[], nodeTerm: number): void {
    for (const entry of entries) this.#recordCommitted(node, entry.index, entry.term, entryDigest(entry), nodeTerm)
  }

  /**
   * `entries` just became durable on `node`; `previousTerm` is the term of the
   * entry before the first, `durableCommit` the node's durable commit index before them.
   */
  observePersistedEntries(node: NodeId, entries: readonly Entry[], previousTerm: number | undefined, durableCommit: number): void {
    let before = previousTerm
    for (const entry of entries) {
      const digest = entryDigest(entry)
      const key = `${entry.index}/${entry.term}`
      const known = this.#entries.get(key)
      if (known === undefined) this.#entries.set(key, { digest, previousTerm: before })
      else if (known.digest !== digest) {
        throw new InvariantViolation('LOG_MATCHING', `n${node} holds ${digest} at index ${entry.index} term ${entry.term}; another log holds ${known.digest}`)
      } else if (known.previousTerm !== undefined && before !== undefined && known.previousTerm !== before) {
        throw new InvariantViolation(
          'LOG_MATCHING',
          `n${node}: entry ${entry.index} term ${entry.term} follows term ${before}; another log has it after term ${known.previousTerm}`,
        )
      } else if (known.previousTerm === undefined && before !== undefined) known.previousTerm = before
      const committed = this.#committed[entry.index]
      if (entry.index <= durableCommit && committed !== undefined && committed.digest !== digest) {
        throw new InvariantViolation(
          'COMMITTED_ENTRY_LOST',
          `n${node} persisted ${digest} at index ${entry.index} below its commit index ${durableCommit}, overwriting the committed ${committed.digest}`,
        )
      }
      before = entry.term
    }
  }

  /** A durable HardState of `node` (after a persist, and as read back on restart). */
  observeDurableHardState(node: NodeId, hardState: HardState, context: string): void {
    const previous = this.#durable.get(node)
    if (previous !== undefined) {
      if (hardState.term < previous.term) {
        throw new InvariantViolation('TERM_REGRESSION', `n${node} ${context}: durable term ${hardState.term} after ${previous.term}`)
      }
      if (hardState.commit < previous.commit) {
        throw new InvariantViolation('COMMITTED_ENTRY_LOST', `n${node} ${context}: durable commit ${hardState.commit} after ${previous.commit}`)
      }
    }
    if (hardState.vote !== 0) {
      const key = `${node}/${hardState.term}`
      const votedFor = this.#votes.get(key)
      if (votedFor !== undefined && votedFor !== hardState.vote) {
        throw new InvariantViolation('DOUBLE_VOTE', `n${node} voted for n${votedFor} and n${hardState.vote} in term ${hardState.term}`)
      }
      this.#votes.set(key, hardState.vote)
    }
    this.#durable.set(node, { ...hardState })
  }

  /** On restart: the durable log up to the durable commit index must hold the committed entries. */
  checkDurableLog(node: NodeId, log: DurableLogView & { entries(lo: number, hi: number, maxSizeBytes: number): Entry[] }, commit: number): void {
    const from = log.firstIndex()
    const to = Math.min(commit, this.#committedIndex)
    if (commit > log.lastIndex()) {
      throw new InvariantViolation('COMMITTED_ENTRY_LOST', `n${node} restarts with commit index ${commit} past its last entry ${log.lastIndex()}`)
    }
    if (to < from) return
    for (const entry of log.entries(from, to + 1, Number.MAX_SAFE_INTEGER)) {
      const committed = this.#committed[entry.index]
      const digest = entryDigest(entry)
      if (committed !== undefined && committed.digest !== digest) {
        throw new InvariantViolation(
          'COMMITTED_ENTRY_LOST',
          `n${node} restarts holding ${digest} at index ${entry.index} (its commit index is ${commit}); ${committed.digest} was committed there`,
        )
      }
    }
  }

  /**
   * `node`'s first Ready as leader of `term` is durable: its log must hold
   * every entry committed in an earlier term. By log matching it is enough to
   * compare the last such entry.
   */
  checkLeaderCompleteness(node: NodeId, term: number, log: DurableLogView): void {
    let index = this.#committedIndex
    while (index > 0 && (this.#committed[index] === undefined || this.#committed[index]!.commitTerm >= term)) index--
    const committed = this.#committed[index]
    if (index === 0 || committed === undefined) return
    if (index < log.firstIndex() - 1) return
    if (index > log.lastIndex()) {
      throw new InvariantViolation(
        'LEADER_COMPLETENESS',
        `n${node} leads term ${term} with last index ${log.lastIndex()} but index ${index} was committed in term ${committed.commitTerm}`,
      )
    }
    const heldTerm = log.term(index)
    if (heldTerm !== committed.term) {
      throw new InvariantViolation(
        'LEADER_COMPLETENESS',
        `n${node} leads term ${term} holding term ${heldTerm} at index ${index}, committed with term ${committed.term}`,
      )
    }
  }

  /** `node` applied the entry at `index` with this result (a digest the caller chooses). */
  observeApplied(node: NodeId, index: number, result: string): void {
    const known = this.#applied.get(index)
    if (known === undefined) this.#applied.set(index, result)
    else if (known !== result) {
      throw new InvariantViolation('STATE_MACHINE_SAFETY', `n${node} applied ${result} at index ${index}; another node applied ${known}`)
    }
  }

  #recordCommitted(node: NodeId, index: number, term: number, digest: string, commitTerm: number): void {
    const known = this.#committed[index]
    if (known !== undefined) {
      if (known.digest !== digest) {
        throw new InvariantViolation(
          'STATE_MACHINE_SAFETY',
          `n${node} committed ${digest} at index ${index}; ${known.digest} was committed there before`,
        )
      }
      return
    }
    this.#committed[index] = { term, digest, commitTerm }
    if (index > this.#committedIndex) this.#committedIndex = index
  }
}
