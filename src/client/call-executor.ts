// The retry loop every call goes through (sdk-api "Retries"):
// - NOT_LEADER / MOVED: go to the node named in the answer at once (the
//   first redirect of a call costs no backoff; a second one in a row backs
//   off, so two nodes that disagree cannot ping-pong the call), and refresh
//   the map in the background;
// - UNAVAILABLE, RATE_LIMITED, QUEUE_FULL, a node that cannot be reached, a
//   connection lost before the request was written: back off (full jitter,
//   never less than the node's retryAfterMs) and retry;
// - TIMEOUT, INTERNAL and a connection lost after the request was written (outcome
//   unknown): retried only when the op is idempotent (reads, and sends that
//   carry a dedupId); otherwise the call fails with that code;
// - anything else fails at once.
// The call's deadline bounds everything: past it, DEADLINE_EXCEEDED with the
// last error as `cause`.
import { Cancellation } from './cancellation.js'
import type { ResolvedClientOptions } from './client-options.js'
import { TroupeClientError, type ErrorCode } from './client-error.js'
import type { ConnectionPool } from './connection-pool.js'
import { retryDelayMs, sleepCancellable } from './retry-backoff.js'
import type { Route, Router } from './router.js'

/** A bound on attempts whatever the deadline (a call spinning through redirects is a bug, not a plan). */
export const CALL_ATTEMPTS_MAX = 10_000

export interface CallSpec {
  op: string
  args: Readonly<Record<string, unknown>>
  route: Route
  /** Safe to run twice: retried after TIMEOUT or a connection lost mid-request. */
  idempotent: boolean
  /** Added to the deadline (a receive's long poll). */
  extraDeadlineMs?: number
}

const BACKOFF_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNAVAILABLE', 'RATE_LIMITED', 'QUEUE_FULL', 'CONNECTION_FAILED'])
const UNKNOWN_OUTCOME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TIMEOUT', 'INTERNAL', 'CONNECTION_LOST'])

export class CallExecutor {
  readonly #options: ResolvedClientOptions
  readonly #pool: ConnectionPool
  readonly #router: Router
  #closed = false

  constructor(options: ResolvedClientOptions, pool: ConnectionPool, router: Router) {
    this.#options = options
    this.#pool = pool
    this.#router = router
  }

  close(): void {
    this.#closed = true
  }

  async run(spec: CallSpec): Promise<unknown> {
    if (this.#closed) throw new TroupeClientError('CLOSED', `${spec.op}: the client is closed`)
    const budgetMs = this.#options.deadlineMs + (spec.extraDeadlineMs ?? 0)
    const startedAt = Date.now()
    const deadlineAt = startedAt + budgetMs
    let attempts = 0
    let backoffs = 0
    let lastError: TroupeClientError | undefined
    let redirectTo: string | undefined
    let redirectsInRow = 0
    const deadlineError = (): TroupeClientError => {
      const last = lastError ? `; last error: ${lastError.code}: ${lastError.message}` : ''
      return new TroupeClientError('DEADLINE_EXCEEDED', `${describeCall(spec)} did not finish within ${budgetMs} ms (${attempts} attempt(s))${last}`, {
        attempts,
        cause: lastError,
        ...(lastError?.leader ? { leader: lastError.leader } : {}),
      })
    }
    const deadline = new Cancellation<TroupeClientError>()
    const timer = setTimeout(() => deadline.cancel(deadlineError()), budgetMs)
    const backOff = async (retryAfterMs?: number): Promise<void> => {
      const delayMs = retryDelayMs(backoffs++, { initialMs: this.#options.retryInitialMs, maxMs: this.#options.retryMaxMs }, retryAfterMs)
      if (Date.now() + delayMs >= deadlineAt) throw deadlineError()
      await sleepCancellable(delayMs, deadline)
    }
    try {
      while (attempts < CALL_ATTEMPTS_MAX) {
        if (this.#closed) throw new TroupeClientError('CLOSED', `${describeCall(spec)}: the client is closed`, { attempts })
        const address = redirectTo ?? this.#router.pick(spec.route)
        redirectTo = undefined
        if (address === undefined) {
          lastError = new TroupeClientError('UNAVAILABLE', `no node is known for ${describeCall(spec)}`)
          this.#router.refreshSoon()
          await backOff()
          continue
        }
        let connection = this.#pool.openConnection(address)
        if (!connection) {
          try {
            connection = await untilCancelled(this.#pool.get(address), deadline)
          } catch (error) {
            if (deadline.cancelled) throw deadline.reason
            lastError = asClientError(error)
            if (lastError.code !== 'CONNECTION_FAILED' && lastError.code !== 'UNAVAILABLE') throw withAttempts(lastError, attempts)
            this.#forget(spec.route, address)
            await backOff(lastError.retryAfterMs)
            continue
          }
        }
        attempts++
        try {
          return await connection.request(spec.op, spec.args, deadline)
        } catch (error) {
          if (deadline.cancelled) throw deadline.reason
          lastError = asClientError(error)
        }
        const code = lastError.code
        if (code === 'NOT_LEADER' || code === 'MOVED') {
          const hinted = lastError.leader && spec.route !== 'any' ? this.#router.view.applyHint(spec.route.shard, lastError.leader) : undefined
          this.#router.refreshSoon()
          if (hinted !== undefined && hinted !== address) {
            redirectTo = hinted
            if (redirectsInRow++ > 0) await backOff()
          } else {
            // No leader known (an election is under way): wait for one.
            await backOff()
          }
          continue
        }
        redirectsInRow = 0
        if (BACKOFF_CODES.has(code) || (UNKNOWN_OUTCOME_CODES.has(code) && spec.idempotent)) {
          if (code === 'CONNECTION_FAILED' || code === 'CONNECTION_LOST') this.#forget(spec.route, address)
          await backOff(lastError.retryAfterMs)
          continue
        }
        throw withAttempts(lastError, attempts)
      }
      throw new TroupeClientError('UNAVAILABLE', `${describeCall(spec)} gave up after ${attempts} attempts`, { attempts, cause: lastError })
    } catch (error) {
      if (error instanceof TroupeClientError && error.code === 'DEADLINE_EXCEEDED') throw deadlineErrorNow(error, attempts)
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  #forget(route: Route, address: string): void {
    if (route !== 'any') this.#router.view.forgetLeader(route.shard, address)
    this.#router.refreshSoon()
  }
}

/** `promise`, or the cancellation's reason if it fires first (opening a connection may take connectTimeoutMs). */
function untilCancelled<T>(promise: Promise<T>, cancellation: Cancellation): Promise<T> {
  if (cancellation.cancelled) return Promise.reject(cancellation.reason)
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = cancellation.subscribe(() => reject(cancellation.reason))
    promise.then(
      (value) => {
        unsubscribe()
        resolve(value)
      },
      (error: unknown) => {
        unsubscribe()
        reject(error)
      },
    )
  })
}

/** The deadline error made by the timer may predate the last attempt: it reports the final count. */
function deadlineErrorNow(error: TroupeClientError, attempts: number): TroupeClientError {
  error.attempts = Math.max(error.attempts, attempts)
  return error
}

/** A copy carrying the call's attempt count (one connection's error object is shared by all its requests). */
function withAttempts(error: TroupeClientError, attempts: number): TroupeClientError {
  return new TroupeClientError(error.code, error.message, {
    attempts,
    ...(error.leader ? { leader: error.leader } : {}),
    ...(error.missing ? { missing: error.missing } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.cause !== undefined ? { cause: error.cause } : {}),
  })
}

function asClientError(error: unknown): TroupeClientError {
  if (error instanceof TroupeClientError) return error
  return new TroupeClientError('CONNECTION_LOST', `unexpected failure: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}

export function describeCall(spec: CallSpec): string {
  const target = typeof spec.args['queue'] === 'string' ? ` on queue '${spec.args['queue']}'` : typeof spec.args['key'] === 'string' ? ` on key '${spec.args['key']}'` : ''
  return `${spec.op}${target}`
}
