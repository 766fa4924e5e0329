// A simulated KV client: one operation at a time, sent to the node it thinks
// leads; follows NOT_LEADER hints, retries a silent node elsewhere with the
// same request id (the machine's session makes a repeated write apply once),
// and gives up at a deadline. A write is dropped from the history only when
// every try of it was refused; if any try may have been proposed, its outcome
// is unknown. Each operation goes into the shared history for the
// linearizability check.
import type { Rng } from '../raft/rng.js'
import type { NodeId } from '../raft/types.js'
import type { HistoryRecorder, KvInput, KvOutput } from './history.js'
import type { SimEnvelope } from './wire.js'

export interface ClientOptions {
  /** Keys are `k0` .. `k{keyCount-1}`; few keys means much contention. */
  keyCount: number
  /** An attempt with no answer after this long is retried at another node. */
  attemptTimeoutMs: number
  /** After this long the operation is abandoned with unknown outcome. */
  operationTimeoutMs: number
  /** Attempts per operation, refusals included. */
  attemptsMax: number
  /** Pause between operations, drawn in [0, thinkTimeMaxMs]. */
  thinkTimeMaxMs: number
  /** Pause before retrying after a refusal. */
  retryBackoffMs: number
  /** Send reads to a random node instead of the presumed leader (exposes stale reads). */
  readsAnywhere: boolean
}

export const defaultClientOptions: ClientOptions = {
  keyCount: 3,
  attemptTimeoutMs: 120,
  operationTimeoutMs: 1_500,
  attemptsMax: 16,
  thinkTimeMaxMs: 30,
  retryBackoffMs: 10,
  readsAnywhere: false,
}

export interface ClientHost {
  nowMs(): number
  send(fromClient: number, to: NodeId, envelope: SimEnvelope): void
  /** Runs `run` after `delayMs` of virtual time; `label` goes to the trace (null: not traced). */
  after(delayMs: number, label: string | null, run: () => void): void
  trace(line: string): void
  /** Nodes a client may contact. */
  members(): readonly NodeId[]
}

interface InFlight {
  historyId: number
  requestId: number
  input: KvInput
  attempt: number
  target: NodeId
  /** Tries sent and not refused: each may have been proposed. */
  readonly unrefused: Set<number>
}

export interface ClientStats {
  completed: number
  unknown: number
  cancelled: number
}

export class SimClient {
  readonly id: number
  readonly stats: ClientStats = { completed: 0, unknown: 0, cancelled: 0 }
  readonly #rng: Rng
  readonly #history: HistoryRecorder<KvInput, KvOutput>
  readonly #options: ClientOptions
  readonly #host: ClientHost
  #leaderGuess: NodeId = 0
  #sequence = 0
  #current: InFlight | null = null
  #stopped = false
  readonly #versions = new Map<string, number>()

  constructor(id: number, rng: Rng, history: HistoryRecorder<KvInput, KvOutput>, options: ClientOptions, host: ClientHost) {
    this.id = id
    this.#rng = rng
    this.#history = history
    this.#options = options
    this.#host = host
  }

  get busy(): boolean {
    return this.#current !== null
  }

  start(): void {
    this.#scheduleNext()
  }

  /** No new operations; the one in flight runs to its end. */
  stop(): void {
    this.#stopped = true
  }

  receive(envelope: SimEnvelope): void {
    const op = this.#current
    if (op === null || (envelope.kind !== 'response' && envelope.kind !== 'refused') || envelope.requestId !== op.requestId) return
    if (envelope.kind === 'response') {
      this.#history.complete(op.historyId, envelope.output, this.#host.nowMs())
      this.stats.completed++
      this.#learn(op.input, envelope.output)
      this.#leaderGuess = op.target
      this.#finish()
      return
    }
    op.unrefused.delete(envelope.attempt)
    // A late or duplicated refusal of an earlier try says nothing about the current one.
    if (envelope.attempt !== op.attempt) return
    this.#leaderGuess = envelope.code === 'NOT_LEADER' && envelope.leaderId !== undefined ? envelope.leaderId : 0
    const attempt = op.attempt
    this.#host.after(this.#options.retryBackoffMs, null, () => {
      if (this.#current === op && op.attempt === attempt) this.#attempt(op)
    })
  }

  #scheduleNext(): void {
    if (this.#stopped) return
    const pauseMs = this.#rng.nextInt(this.#options.thinkTimeMaxMs + 1)
    this.#host.after(pauseMs, null, () => this.#begin())
  }

  #begin(): void {
    if (this.#stopped || this.#current !== null) return
    const input = this.#chooseInput()
    const now = this.#host.nowMs()
    const historyId = this.#history.invoke(this.id, input, now)
    // The history id doubles as the request id: it grows per client, as sessions require, and
    // lets a failure report be matched with the trace.
    const op: InFlight = {
      historyId,
      requestId: historyId,
      input,
      attempt: 0,
      target: 0,
      unrefused: new Set(),
    }
    this.#current = op
    this.#host.after(this.#options.operationTimeoutMs, null, () => {
      if (this.#current === op) this.#abandon(op)
    })
    this.#attempt(op)
  }

  #attempt(op: InFlight): void {
    if (op.attempt >= this.#options.attemptsMax) {
      this.#abandon(op)
      return
    }
    op.attempt++
    op.target = this.#chooseTarget(op)
    op.unrefused.add(op.attempt)
    this.#host.send(this.id, op.target, {
      kind: 'request',
      clientId: this.id,
      requestId: op.requestId,
      attempt: op.attempt,
      input: op.input,
    })
    const attempt = op.attempt
    this.#host.after(this.#options.attemptTimeoutMs, null, () => {
      if (this.#current !== op || op.attempt !== attempt) return
      this.#host.trace(`c${this.id} #${op.requestId} attempt ${attempt} at n${op.target} timed out`)
      this.#leaderGuess = 0
      this.#attempt(op)
    })
  }

  #abandon(op: InFlight): void {
    if (op.input.kind !== 'get' && op.unrefused.size > 0) {
      this.#history.fail(op.historyId)
      this.stats.unknown++
      this.#host.trace(`c${this.id} #${op.requestId} gives up: outcome unknown`)
    } else {
      this.#history.cancel(op.historyId)
      this.stats.cancelled++
      this.#host.trace(`c${this.id} #${op.requestId} gives up: refused everywhere`)
    }
    this.#finish()
  }

  #finish(): void {
    this.#current = null
    this.#scheduleNext()
  }

  #chooseTarget(op: InFlight): NodeId {
    const members = this.#host.members()
    if (op.input.kind === 'get' && this.#options.readsAnywhere) return members[this.#rng.nextInt(members.length)]!
    if (this.#leaderGuess !== 0 && members.includes(this.#leaderGuess)) return this.#leaderGuess
    const others = members.filter((m) => m !== op.target)
    const pool = others.length > 0 ? others : members
    return pool[this.#rng.nextInt(pool.length)]!
  }

  #chooseInput(): KvInput {
    const key = `k${this.#rng.nextInt(this.#options.keyCount)}`
    const value = `c${this.id}.${++this.#sequence}`
    const roll = this.#rng.nextInt(100)
    if (roll < 40) return { kind: 'get', key }
    if (roll < 75) return { kind: 'put', key, value }
    if (roll < 88) return { kind: 'cas', key, expectedVersion: this.#versions.get(key) ?? 0, value }
    const known = this.#versions.get(key)
    if (roll < 94 && known !== undefined) return { kind: 'delete', key, expectedVersion: known }
    return { kind: 'delete', key }
  }

  #learn(input: KvInput, output: KvOutput): void {
    const version =
      output.kind === 'get' ? (output.value === null ? undefined : output.version) : output.kind === 'delete' ? undefined : output.version
    if (version === undefined) this.#versions.delete(input.key)
    else this.#versions.set(input.key, version)
  }
}
