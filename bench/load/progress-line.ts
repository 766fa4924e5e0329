// The live progress line on stderr: once a second, the figures of the last
// complete second (elapsed, ops/s, p99, errors). On a terminal it rewrites
// one line; elsewhere (--progress into a file or pipe) it writes a line per
// second.
import type { SecondBuckets } from './second-buckets.js'

export interface ProgressOutput {
  write(text: string): unknown
  isTTY?: boolean
}

export function formatProgress(elapsedSec: number, figures: { ops: number; p99Ms: number; errors: number; dropped: number }): string {
  const dropped = figures.dropped > 0 ? `  dropped ${figures.dropped}` : ''
  return `${String(elapsedSec).padStart(4)} s  ${figures.ops.toLocaleString('en-US').padStart(9)} ops/s  p99 ${figures.p99Ms.toFixed(2).padStart(8)} ms  errors ${figures.errors}${dropped}`
}

export class ProgressLine {
  private timer: NodeJS.Timeout | undefined
  private wrote = false

  constructor(
    private readonly buckets: SecondBuckets,
    private readonly output: ProgressOutput,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), 1000)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    if (this.wrote && this.output.isTTY === true) this.output.write('\n')
  }

  private tick(): void {
    const elapsedMs = performance.now() - this.buckets.startMs
    if (elapsedMs < 0) {
      this.show(`warming up (${Math.ceil(-elapsedMs / 1000)} s left)`)
      return
    }
    if (elapsedMs < 1000) return
    const last = Math.min(Math.floor(elapsedMs / 1000), this.buckets.seconds) - 1
    this.show(formatProgress(last + 1, this.buckets.figures(last)))
  }

  private show(text: string): void {
    this.wrote = true
    if (this.output.isTTY === true) this.output.write(`\r\x1b[2K${text}`)
    else this.output.write(`${text}\n`)
  }
}
