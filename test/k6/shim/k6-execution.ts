// `k6/execution` under the shim: the runner updates these objects in place
// before each iteration.
import { shimState } from './k6-shim-state.js'

export const vu = shimState.execution.vu
export const scenario = shimState.execution.scenario
export const instance = { iterationsInterrupted: 0, iterationsCompleted: 0, vusActive: 1, vusInitialized: 1, currentTestRunDuration: 0 }
export const test = {
  abort(reason?: string): never {
    throw new Error(`test.abort(${reason ?? ''})`)
  },
  fail(message?: string): never {
    throw new Error(`test.fail(${message ?? ''})`)
  },
  options: {},
}

export default { vu, scenario, instance, test }
