// client.kv: reads, writes and deletes routed to the key's shard. Writes are
// not retried after an unknown outcome (a second put would bump the version
// or fail its ifVersion); use ifVersion to make a retry of your own safe.
import type { CallExecutor } from './call-executor.js'
import { TroupeClientError } from './client-error.js'
import type { Consistency, KvEntry } from './client-types.js'
import type { Router } from './router.js'

export class KvOperations {
  readonly #executor: CallExecutor
  readonly #router: Router

  constructor(executor: CallExecutor, router: Router) {
    this.#executor = executor
    this.#router = router
  }

  /** The value and its version, or undefined when the key does not exist. Linearizable unless `stale`. */
  async get(key: string, options: { consistency?: Consistency } = {}): Promise<KvEntry | undefined> {
    const args = options.consistency === undefined ? {} : { consistency: options.consistency }
    const r = await this.#call(key, 'kv.get', args, true)
    if (r === null || r === undefined) return undefined
    const entry = r as { value: Uint8Array | string; version: number; expiresAt?: number }
    const value = typeof entry.value === 'string' ? Buffer.from(entry.value, 'utf8') : Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength)
    return typeof entry.expiresAt === 'number' && entry.expiresAt > 0
      ? { value, version: entry.version, expiresAt: entry.expiresAt }
      : { value, version: entry.version }
  }

  /** Writes the value; resolves with its new version. CONFLICT when `ifVersion` does not match. */
  async put(key: string, value: string | Uint8Array, options: { ttlMs?: number; ifVersion?: number } = {}): Promise<number> {
    const args: Record<string, unknown> = { value }
    if (options.ttlMs !== undefined) args['ttlMs'] = options.ttlMs
    if (options.ifVersion !== undefined) args['ifVersion'] = options.ifVersion
    const r = (await this.#call(key, 'kv.put', args, false)) as { version: number }
    return r.version
  }

  /** KEY_NOT_FOUND when absent; CONFLICT when `ifVersion` does not match. */
  async delete(key: string, options: { ifVersion?: number } = {}): Promise<void> {
    await this.#call(key, 'kv.delete', options.ifVersion === undefined ? {} : { ifVersion: options.ifVersion }, false)
  }

  #call(key: string, op: string, args: Record<string, unknown>, idempotent: boolean): Promise<unknown> {
    if (typeof key !== 'string') return Promise.reject(new TroupeClientError('INVALID_ARGUMENT', `key must be a string, got ${typeof key}`))
    const shard = this.#router.view.shardOfKey(key)
    return this.#executor.run({ op, args: { key, ...args }, route: { shard }, idempotent })
  }
}
