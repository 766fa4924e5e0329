// `k6/metrics` under the shim: each metric keeps its count and sum.
import { shimState, type MetricRecord } from './k6-shim-state.js'

class Metric {
  constructor(
    readonly name: string,
    type: MetricRecord['type'],
  ) {
    if (!shimState.metrics.has(name)) shimState.metrics.set(name, { type, count: 0, sum: 0 })
  }

  add(value: number | boolean, _tags?: Record<string, string>): void {
    const record = shimState.metrics.get(this.name)!
    record.count++
    record.sum += typeof value === 'boolean' ? Number(value) : value
  }
}

export class Counter extends Metric {
  constructor(name: string) {
    super(name, 'counter')
  }
}
export class Gauge extends Metric {
  constructor(name: string) {
    super(name, 'gauge')
  }
}
export class Rate extends Metric {
  constructor(name: string) {
    super(name, 'rate')
  }
}
export class Trend extends Metric {
  constructor(name: string, _isTime?: boolean) {
    super(name, 'trend')
  }
}

export default { Counter, Gauge, Rate, Trend }
