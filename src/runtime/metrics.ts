// Counters kept per actor; the node exports them as Prometheus metrics.

export class ActorCounters {
  /** Messages accepted into the mailbox. */
  received = 0
  /** Messages handled without throwing. */
  processed = 0
  /** Messages refused because the mailbox was full. */
  rejected = 0
  /** Messages discarded by the drop-oldest policy. */
  dropped = 0
  failures = 0
  restarts = 0
}

export interface ActorMetrics {
  name: string
  address: { thread: number; id: number }
  mailboxDepth: number
  received: number
  processed: number
  rejected: number
  dropped: number
  failures: number
  restarts: number
}
