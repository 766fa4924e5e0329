// Runs a k6 script in Node against a real server, with the shimmed k6
// modules: setup(), then every scenario's exec function for a few
// iterations per VU (VUs taking turns), then teardown(), like k6's life
// cycle but sequential and short. It proves the script loads, speaks the
// API as the server understands it and passes its own checks; it measures
// nothing. Prints one JSON line (ShimRunSummary) on stdout.
//
// usage: node run-k6-script.js SCRIPT   (settings in the K6_SHIM_CONFIG env var, a ShimRunConfig)
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { shimState, type CheckCount, type MetricRecord, type RecordedRequest } from './k6-shim-state.js'
import { stopSyncHttp } from './sync-http.js'

export interface ShimRunConfig {
  /** The script's `__ENV`. */
  env: Record<string, string>
  /** Iterations each VU runs in each scenario. */
  iterationsPerVu: number
  /** VUs per scenario at most (a scenario's own VU count is used when smaller). */
  vusMax: number
  /** Seed of Math.random, so the scripts' random choices repeat run after run. */
  seed: number
}

export interface ShimRunSummary {
  options: { scenarios?: Record<string, Record<string, unknown>>; thresholds?: Record<string, unknown[]> } & Record<string, unknown>
  exports: string[]
  /** Scenario name → iterations run. */
  iterations: Record<string, number>
  checks: Record<string, CheckCount>
  requests: RecordedRequest[]
  requestsDropped: number
  metrics: Record<string, MetricRecord>
  /** Exceptions out of setup, iterations or teardown (k6 logs and goes on; so does the shim). */
  errors: string[]
}

type ScriptFunction = (data?: unknown) => unknown

const ITERATIONS_MAX = 1000

/** mulberry32: a small seeded generator, enough to make the scripts' choices repeatable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error)
}

async function main(): Promise<void> {
  const script = process.argv[2]
  if (script === undefined) throw new Error('usage: run-k6-script.js SCRIPT')
  const config = JSON.parse(process.env['K6_SHIM_CONFIG'] ?? '{}') as ShimRunConfig
  const iterationsPerVu = Math.min(config.iterationsPerVu, ITERATIONS_MAX)
  register('./k6-loader-hooks.js', import.meta.url)
  ;(globalThis as Record<string, unknown>)['__ENV'] = { ...config.env }
  Math.random = seededRandom(config.seed)

  const module = (await import(pathToFileURL(script).href)) as Record<string, unknown>
  const options = (module['options'] ?? {}) as ShimRunSummary['options']
  const errors: string[] = []
  const iterations: Record<string, number> = {}
  // k6 hands every VU its own copy of setup()'s data, as JSON.
  const copy = (data: unknown): unknown => (data === undefined ? undefined : JSON.parse(JSON.stringify(data)))

  let data: unknown
  let setupFailed = false
  const setup = module['setup']
  if (typeof setup === 'function') {
    try {
      data = (setup as ScriptFunction)()
    } catch (error) {
      setupFailed = true
      errors.push(`setup: ${describeError(error)}`)
    }
  }
  if (!setupFailed) {
    let nextVuId = 1
    const scenarios = options.scenarios ?? { default: { executor: 'constant-vus', vus: 1 } }
    for (const [name, scenario] of Object.entries(scenarios)) {
      const exec = typeof scenario['exec'] === 'string' ? scenario['exec'] : 'default'
      const fn = module[exec]
      if (typeof fn !== 'function') {
        errors.push(`scenario ${name}: exec '${exec}' is not an exported function`)
        continue
      }
      const declaredVus = Number(scenario['vus'] ?? scenario['preAllocatedVUs'] ?? 1)
      const vuIds = Array.from({ length: Math.max(1, Math.min(config.vusMax, declaredVus)) }, () => nextVuId++)
      const execution = shimState.execution
      Object.assign(execution.scenario, { name, executor: String(scenario['executor']), iterationInTest: 0, iterationInInstance: 0, startTime: Date.now() })
      iterations[name] = 0
      for (let iteration = 0; iteration < iterationsPerVu; iteration++) {
        for (const id of vuIds) {
          Object.assign(execution.vu, { idInTest: id, idInInstance: id, iterationInScenario: iteration, iterationInInstance: iteration })
          try {
            ;(fn as ScriptFunction)(copy(data))
          } catch (error) {
            errors.push(`scenario ${name}, VU ${id}, iteration ${iteration}: ${describeError(error)}`)
          }
          execution.scenario.iterationInTest++
          execution.scenario.iterationInInstance++
          iterations[name]++
        }
      }
    }
  }
  // As in k6, a failed setup() ends the run: no iterations, no teardown().
  const teardown = module['teardown']
  if (typeof teardown === 'function' && !setupFailed) {
    try {
      ;(teardown as ScriptFunction)(copy(data))
    } catch (error) {
      errors.push(`teardown: ${describeError(error)}`)
    }
  }
  await stopSyncHttp()

  const summary: ShimRunSummary = {
    options,
    exports: Object.keys(module).sort(),
    iterations,
    checks: Object.fromEntries(shimState.checks),
    requests: shimState.requests,
    requestsDropped: shimState.requestsDropped,
    metrics: Object.fromEntries(shimState.metrics),
    errors,
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${describeError(error)}\n`)
  process.exitCode = 1
})
