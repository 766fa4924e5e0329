// The run's event trace: every event updates a running hash (two
// independent 32-bit FNV-style lanes), so two runs of one seed can be
// compared by a short string. Only the last `capacity` lines are kept to
// print when a run fails; with a window (a replay that zooms in on a moment),
// the last `capacity` lines inside the window.

export interface TraceWindow {
  fromMs: number
  toMs: number
}

export class SimTrace {
  readonly #lines: string[]
  readonly #capacity: number
  #next = 0
  #count = 0
  #hashLow = 0x811c9dc5
  #hashHigh = 0x9747b28c
  readonly #echo: ((line: string) => void) | undefined

  readonly #window: TraceWindow | undefined

  constructor(capacity: number, echo?: (line: string) => void, window?: TraceWindow) {
    this.#capacity = capacity
    this.#lines = new Array<string>(capacity)
    this.#echo = echo
    this.#window = window
  }

  record(atMs: number, text: string): void {
    const line = `${formatTime(atMs)} ${text}`
    this.#mix(line)
    this.#count++
    this.#echo?.(line)
    const window = this.#window
    if (window !== undefined && (atMs < window.fromMs || atMs > window.toMs)) return
    this.#lines[this.#next] = line
    this.#next = (this.#next + 1) % this.#capacity
    this.#kept++
  }

  #kept = 0

  /** Mixes a value into the hash without keeping a line (final state, statistics). */
  mix(text: string): void {
    this.#mix(text)
  }

  get eventCount(): number {
    return this.#count
  }

  get hash(): string {
    return (this.#hashHigh >>> 0).toString(16).padStart(8, '0') + (this.#hashLow >>> 0).toString(16).padStart(8, '0')
  }

  /** The kept lines, oldest first. */
  lastLines(): string[] {
    const kept = Math.min(this.#kept, this.#capacity)
    const out: string[] = []
    for (let i = 0; i < kept; i++) out.push(this.#lines[(this.#next - kept + i + this.#capacity) % this.#capacity]!)
    return out
  }

  #mix(text: string): void {
    let low = this.#hashLow
    let high = this.#hashHigh
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      low = Math.imul(low ^ c, 0x01000193)
      high = Math.imul(high ^ c, 0x5bd1e995)
    }
    this.#hashLow = Math.imul(low ^ 0x0a, 0x01000193)
    this.#hashHigh = Math.imul(high ^ 0x0a, 0x5bd1e995)
  }
}

function formatTime(atMs: number): string {
  return `${(atMs / 1000).toFixed(3)}s`
}
