// The bounded window of append messages sent to one follower and not yet
// acknowledged: the leader stops sending when it is full (flow control).
export class Inflights {
  private readonly lastIndexes: Float64Array
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.lastIndexes = new Float64Array(capacity)
  }

  full(): boolean {
    return this.count === this.capacity
  }

  size(): number {
    return this.count
  }

  /** Records a message whose last entry is `lastIndex` (increasing from call to call). */
  add(lastIndex: number): void {
    if (this.count === this.capacity) throw new RangeError('inflights: add on a full window')
    this.lastIndexes[(this.start + this.count) % this.capacity] = lastIndex
    this.count++
  }

  /** Frees every message whose last entry is <= index (they are acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.lastIndexes[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity
      this.count--
    }
  }

  /** Frees the oldest message, lost or not: lets one more append probe the follower. */
  freeFirstOne(): void {
    if (this.count === 0) return
    this.start = (this.start + 1) % this.capacity
    this.count--
  }

  reset(): void {
    this.start = 0
    this.count = 0
  }
}
