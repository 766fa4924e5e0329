// Shared helpers of the runtime tests.
import { pino } from 'pino'
import { ActorSystem, type ActorSystemOptions } from '../../src/runtime/system.js'

export const silentLogger = pino({ level: 'silent' })

export function startSystem(options: ActorSystemOptions = {}): Promise<ActorSystem> {
  return ActorSystem.start({ logger: silentLogger, ...options })
}

/** Resolves once `predicate` holds, polling every few ms; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
