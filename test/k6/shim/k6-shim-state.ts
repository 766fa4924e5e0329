// What a script did under the shim: checks, requests, custom metrics, logs,
// and the execution context k6/execution exposes. One instance per process:
// the runner and the shimmed k6 modules import this same file.

export interface RecordedRequest {
  method: string
  url: string
  status: number
  /** The request's `name` tag (k6 groups metrics and thresholds by it). */
  tag: string | undefined
  authorization: string | undefined
  error: string
}

export interface CheckCount {
  passes: number
  fails: number
}

export interface MetricRecord {
  type: 'counter' | 'gauge' | 'rate' | 'trend'
  count: number
  sum: number
}

export interface ExecutionContext {
  vu: { idInTest: number; idInInstance: number; iterationInScenario: number; iterationInInstance: number; tags: Record<string, string> }
  scenario: { name: string; executor: string; iterationInTest: number; iterationInInstance: number; startTime: number; progress: number }
}

/** Requests kept at most, so that a runaway script cannot grow the summary without bound. */
export const RECORDED_REQUESTS_MAX = 10_000

export const shimState = {
  checks: new Map<string, CheckCount>(),
  requests: [] as RecordedRequest[],
  requestsDropped: 0,
  metrics: new Map<string, MetricRecord>(),
  logs: [] as string[],
  execution: {
    vu: { idInTest: 0, idInInstance: 0, iterationInScenario: 0, iterationInInstance: 0, tags: {} },
    scenario: { name: '', executor: '', iterationInTest: 0, iterationInInstance: 0, startTime: 0, progress: 0 },
  } as ExecutionContext,
}

export function recordRequest(request: RecordedRequest): void {
  if (shimState.requests.length < RECORDED_REQUESTS_MAX) shimState.requests.push(request)
  else shimState.requestsDropped++
}
