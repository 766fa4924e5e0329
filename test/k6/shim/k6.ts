// The `k6` module under the shim: check() counts passes and fails per name,
// as k6's `checks` metric does; fail() throws.
import { shimState } from './k6-shim-state.js'

export function check<T>(value: T, checkers: Record<string, (value: T) => boolean>, _tags?: Record<string, string>): boolean {
  let all = true
  for (const [name, checker] of Object.entries(checkers)) {
    const passed = checker(value) === true
    const count = shimState.checks.get(name) ?? { passes: 0, fails: 0 }
    if (passed) count.passes++
    else count.fails++
    shimState.checks.set(name, count)
    all &&= passed
  }
  return all
}

export function fail(message?: string): never {
  throw new Error(message ?? 'fail() called')
}

export function group<T>(_name: string, fn: () => T): T {
  return fn()
}

export function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, seconds * 1000))
}

export default { check, fail, group, sleep }
