// Test-only: recounts every queue's gauges from the snapshot's per-message
// states, to compare with the O(1) counters the machine keeps on apply.
import type { QueueStats, ShardMachine } from '../../../src/machines/index.js'
import { decodeShardSnapshot, encodeShardSnapshot } from '../../../src/machines/snapshot-codec.js'
import { MessageState } from '../../../src/machines/stored-message.js'

export type Gauges = Pick<QueueStats, 'visible' | 'inFlight' | 'delayed' | 'deadLettering' | 'total'>

export function recountGauges(machine: ShardMachine): Map<string, Gauges> {
  const recount = new Map<string, Gauges>()
  for (const queue of decodeShardSnapshot(machine.snapshot()).queues) {
    const gauges: Gauges = { visible: 0, inFlight: 0, delayed: 0, deadLettering: 0, total: 0 }
    for (const message of queue.messages.values()) {
      gauges.total++
      if (message.state === MessageState.visible) gauges.visible++
      else if (message.state === MessageState.inFlight) gauges.inFlight++
      else if (message.state === MessageState.delayed) gauges.delayed++
      else gauges.deadLettering++
    }
    recount.set(queue.name, gauges)
  }
  return recount
}

export function liveGauges(machine: ShardMachine): Map<string, Gauges> {
  const live = new Map<string, Gauges>()
  for (const name of machine.queueNames()) {
    const { visible, inFlight, delayed, deadLettering, total } = machine.queueStats(name)!
    live.set(name, { visible, inFlight, delayed, deadLettering, total })
  }
  return live
}

/** The snapshot with the applied index and clock zeroed: the state that commands change. */
export function contentBytes(machine: ShardMachine): Buffer {
  const state = decodeShardSnapshot(machine.snapshot())
  return Buffer.from(encodeShardSnapshot({ ...state, appliedIndex: 0, clockMs: 0 }))
}
