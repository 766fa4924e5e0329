// Setup steps that must wait for a cluster to settle (a leader elected, a
// stream placed) retry with a pause, bounded in attempts and in time.
import { PeerBenchError } from './peer-error.js'

export interface RetryLimits {
  timeoutMs: number
  pauseMs: number
  maxAttempts: number
}

export const SETUP_RETRY: RetryLimits = { timeoutMs: 60_000, pauseMs: 250, maxAttempts: 400 }

export async function retry<T>(what: string, limits: RetryLimits, attempt: () => Promise<T>): Promise<T> {
  const deadlineMs = performance.now() + limits.timeoutMs
  let lastError: unknown
  for (let i = 0; i < limits.maxAttempts; i++) {
    try {
      return await attempt()
    } catch (error) {
      lastError = error
    }
    if (performance.now() + limits.pauseMs > deadlineMs) break
    await new Promise((resolve) => setTimeout(resolve, limits.pauseMs))
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError)
  throw new PeerBenchError('SETUP_FAILED', `${what}: gave up after ${limits.timeoutMs} ms or ${limits.maxAttempts} attempts: ${reason}`)
}
