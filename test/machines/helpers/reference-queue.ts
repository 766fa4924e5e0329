// A deliberately naive model of one queue (send, receive, ack, nack, tick;
// priority, delay, visibility, maxReceives without a dead-letter queue; no
// retention, no dedup): arrays and scans, written from the contract, to check
// the machine's heaps and counters against.
interface ModelMessage {
  id: string
  logIndex: number
  position: number
  priority: number
  state: 'visible' | 'inFlight' | 'delayed'
  dueMs: number
  receiveCount: number
  receipt: string
}

export class ReferenceQueue {
  private messages: ModelMessage[] = []

  constructor(
    private readonly shard: number,
    private readonly visibilityTimeoutMs: number,
    private readonly maxReceives: number,
  ) {}

  send(priorities: Array<{ priority: number; delayMs: number }>, logIndex: number, nowMs: number): string[] {
    this.processDue(nowMs)
    return priorities.map(({ priority, delayMs }, position) => {
      const id = `${this.shard}-${logIndex}-${position}`
      this.messages.push({ id, logIndex, position, priority, state: delayMs > 0 ? 'delayed' : 'visible', dueMs: nowMs + delayMs, receiveCount: 0, receipt: '' })
      return id
    })
  }

  receive(max: number, logIndex: number, nowMs: number): Array<{ id: string; receipt: string; receiveCount: number }> {
    this.processDue(nowMs)
    const visible = this.messages
      .filter((m) => m.state === 'visible')
      .sort((a, b) => b.priority - a.priority || a.logIndex - b.logIndex || a.position - b.position)
      .slice(0, max)
    return visible.map((m) => {
      m.state = 'inFlight'
      m.receiveCount++
      m.dueMs = nowMs + this.visibilityTimeoutMs
      m.receipt = `${m.id}.${m.receiveCount}.${logIndex}`
      return { id: m.id, receipt: m.receipt, receiveCount: m.receiveCount }
    })
  }

  ack(receipts: string[], nowMs: number): { acked: number; missing: string[] } {
    this.processDue(nowMs)
    let acked = 0
    const missing: string[] = []
    for (const receipt of new Set(receipts)) {
      const m = this.findDelivery(receipt, nowMs)
      if (m === undefined) missing.push(receipt)
      else {
        this.messages = this.messages.filter((x) => x !== m)
        acked++
      }
    }
    return { acked, missing }
  }

  nack(receipt: string, delayMs: number, nowMs: number): string | undefined {
    this.processDue(nowMs)
    const m = this.findDelivery(receipt, nowMs)
    return m === undefined ? undefined : this.fail(m, delayMs, nowMs)
  }

  tick(nowMs: number): void {
    this.processDue(nowMs)
  }

  stats(): { visible: number; inFlight: number; delayed: number; total: number } {
    const count = (state: ModelMessage['state']) => this.messages.filter((m) => m.state === state).length
    return { visible: count('visible'), inFlight: count('inFlight'), delayed: count('delayed'), total: this.messages.length }
  }

  private findDelivery(receipt: string, nowMs: number): ModelMessage | undefined {
    return this.messages.find((m) => m.state === 'inFlight' && m.receipt === receipt && m.dueMs > nowMs)
  }

  private fail(m: ModelMessage, delayMs: number, nowMs: number): string {
    if (this.maxReceives > 0 && m.receiveCount >= this.maxReceives) {
      this.messages = this.messages.filter((x) => x !== m)
      return 'dropped'
    }
    m.state = delayMs > 0 ? 'delayed' : 'visible'
    m.dueMs = nowMs + delayMs
    return m.state
  }

  private processDue(nowMs: number): void {
    for (const m of [...this.messages]) {
      if (m.dueMs > nowMs) continue
      if (m.state === 'delayed') m.state = 'visible'
      else if (m.state === 'inFlight') this.fail(m, 0, nowMs)
    }
  }
}
