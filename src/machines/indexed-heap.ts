// A binary min-heap whose items remember their position, so that an item can
// be removed or re-keyed in O(log n). The order must be total (ties broken by
// a unique key): then what `pop` returns depends only on the set of items,
// never on the heap's layout, which keeps replay and restore deterministic.
import { invariant } from './errors.js'

export interface HeapPosition<T> {
  get(item: T): number
  set(item: T, position: number): void
}

export const NOT_IN_HEAP = -1

export class IndexedHeap<T> {
  private readonly items: T[] = []

  constructor(
    /** True when `a` comes out before `b`. */
    private readonly before: (a: T, b: T) => boolean,
    private readonly position: HeapPosition<T>,
  ) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  contains(item: T): boolean {
    const at = this.position.get(item)
    return at !== NOT_IN_HEAP && this.items[at] === item
  }

  push(item: T): void {
    invariant(this.position.get(item) === NOT_IN_HEAP, 'heap push of an item already in a heap')
    this.items.push(item)
    this.position.set(item, this.items.length - 1)
    this.siftUp(this.items.length - 1)
  }

  pop(): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.removeAt(0)
    return top
  }

  remove(item: T): void {
    invariant(this.contains(item), 'heap remove of an item not in this heap')
    this.removeAt(this.position.get(item))
  }

  /** Restores the order after the item's key changed. */
  update(item: T): void {
    invariant(this.contains(item), 'heap update of an item not in this heap')
    const at = this.position.get(item)
    this.siftDown(this.siftUp(at))
  }

  /** Empties the heap, marking every item as in no heap. */
  clear(): void {
    for (const item of this.items) this.position.set(item, NOT_IN_HEAP)
    this.items.length = 0
  }

  private removeAt(at: number): void {
    const items = this.items
    const removed = items[at]!
    const last = items.pop()!
    this.position.set(removed, NOT_IN_HEAP)
    if (at === items.length) return
    items[at] = last
    this.position.set(last, at)
    this.siftDown(this.siftUp(at))
  }

  private siftUp(start: number): number {
    const items = this.items
    const item = items[start]!
    let at = start
    while (at > 0) {
      const parentAt = (at - 1) >> 1
      const parent = items[parentAt]!
      if (!this.before(item, parent)) break
      items[at] = parent
      this.position.set(parent, at)
      at = parentAt
    }
    items[at] = item
    this.position.set(item, at)
    return at
  }

  private siftDown(start: number): number {
    const items = this.items
    const count = items.length
    const item = items[start]!
    let at = start
    for (;;) {
      const left = 2 * at + 1
      if (left >= count) break
      const right = left + 1
      const child = right < count && this.before(items[right]!, items[left]!) ? right : left
      if (!this.before(items[child]!, item)) break
      items[at] = items[child]!
      this.position.set(items[at]!, at)
      at = child
    }
    items[at] = item
    this.position.set(item, at)
    return at
  }
}
