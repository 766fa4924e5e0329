// The scenario registry: name → scenario.
import { drainScenario } from './drain-scenario.js'
import { ingestScenario } from './ingest-scenario.js'
import { kvScenario } from './kv-scenario.js'
import { mixedScenario } from './mixed-scenario.js'
import type { Scenario, ScenarioName, ScenarioSettings } from './scenario.js'

export function createScenario(name: ScenarioName, settings: ScenarioSettings): Scenario {
  switch (name) {
    case 'ingest':
      return ingestScenario(settings)
    case 'drain':
      return drainScenario(settings)
    case 'mixed':
      return mixedScenario(settings)
    case 'kv':
      return kvScenario(settings)
  }
}
