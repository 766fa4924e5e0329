// Collects the items of one turn of the event loop by key, and hands each
// key's items over in one call once the turn is over (at setImmediate: after
// the turn's I/O callbacks and microtasks, so callers woken by one batch of
// answers that call again in the same turn land in the same group). The
// send coalescer is built on it.

export class TurnGroups<Key, Item> {
  #pending = new Map<Key, Item[]>()
  #flushScheduled = false
  readonly #flush: (key: Key, items: Item[]) => void

  /** `flush` gets each key's items in the order they were added. */
  constructor(flush: (key: Key, items: Item[]) => void) {
    this.#flush = flush
  }

  add(key: Key, item: Item): void {
    let items = this.#pending.get(key)
    if (items === undefined) {
      items = []
      this.#pending.set(key, items)
    }
    items.push(item)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flushAll())
    }
  }

  #flushAll(): void {
    this.#flushScheduled = false
    const pending = this.#pending
    this.#pending = new Map()
    for (const [key, items] of pending) this.#flush(key, items)
  }
}
