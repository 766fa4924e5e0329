// Drives a ShardMachine the way the node does: consecutive log indexes and a
// leader clock that the test moves by hand.
import { ShardMachine, type ApplyOutput, type CommandResults, type MachineError, type ShardCommand, type ShardEffect } from '../../../src/machines/index.js'

export class Harness {
  index = 0
  nowMs = 1_000_000
  effects: ShardEffect[] = []

  constructor(readonly machine: ShardMachine = new ShardMachine(1)) {
    this.index = machine.lastAppliedIndex
    this.nowMs = Math.max(this.nowMs, machine.nowMs)
  }

  get shard(): number {
    return this.machine.shard
  }

  advance(ms: number): this {
    this.nowMs += ms
    return this
  }

  apply<C extends ShardCommand>(command: C): ApplyOutput<CommandResults[C['type']]> {
    const output = this.machine.apply(command, { index: ++this.index, nowMs: this.nowMs, shard: this.machine.shard })
    this.effects = output.effects
    return output
  }

  /** Applies and returns the success value; throws when the result is an error. */
  ok<C extends ShardCommand>(command: C): CommandResults[C['type']] {
    const { result } = this.apply(command)
    if (!result.ok) throw new Error(`${command.type} failed: ${result.error.code} ${result.error.message}`)
    return result.value
  }

  /** Applies and returns the error; throws when the command succeeded. */
  error(command: ShardCommand): MachineError {
    const { result } = this.apply(command)
    if (result.ok) throw new Error(`${command.type} unexpectedly succeeded: ${JSON.stringify(result.value)}`)
    return result.error
  }

  /** Applies a command that is not a well-typed ShardCommand (bad input). */
  applyRaw(command: unknown): ApplyOutput<unknown> {
    return this.apply(command as ShardCommand)
  }

  createQueue(queue: string, config: Extract<ShardCommand, { type: 'queue.create' }>['config'] = {}): void {
    this.ok({ type: 'queue.create', queue, config })
  }

  send(queue: string, ...bodies: string[]): string[] {
    return this.ok({ type: 'queue.send', queue, messages: bodies.map((b) => ({ body: bytes(b) })) }).ids
  }

  receive(queue: string, max = 100, visibilityTimeoutMs?: number): CommandResults['queue.receive']['messages'] {
    const command: ShardCommand = visibilityTimeoutMs === undefined ? { type: 'queue.receive', queue, max } : { type: 'queue.receive', queue, max, visibilityTimeoutMs }
    return this.ok(command).messages
  }

  tick(): CommandResults['tick'] {
    return this.ok({ type: 'tick' })
  }
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

export function text(body: Uint8Array): string {
  return new TextDecoder().decode(body)
}
