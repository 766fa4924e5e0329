import t from 'tap'
import { applyScenario } from '../../src/sim/scenario.js'
import { defaultSimulationOptions } from '../../src/sim/simulation.js'

t.test('a seed draws the same scenario every time, and seeds differ', async (t) => {
  const options = { ...defaultSimulationOptions, seed: 12 }
  t.same(applyScenario(options), applyScenario(options))
  const descriptions = new Set<string>()
  for (let seed = 1; seed <= 30; seed++) descriptions.add(applyScenario({ ...options, seed }).description)
  t.ok(descriptions.size > 10, `${descriptions.size} distinct scenarios in 30 seeds`)
})

t.test('without variation the options pass through', async (t) => {
  const options = { ...defaultSimulationOptions, seed: 12, vary: { faults: false, core: false, readOnly: false, clusterSize: false, workload: false } }
  const { options: applied, description } = applyScenario(options)
  t.same(applied.network, options.network)
  t.same(applied.faults, options.faults)
  t.equal(applied.node.readOnly, options.node.readOnly)
  t.match(description, /^scenario: loss=0\.02 /)
})

t.test('the read mode is drawn when asked: both modes occur', async (t) => {
  const modes = new Set<string>()
  for (let seed = 1; seed <= 30; seed++) modes.add(applyScenario({ ...defaultSimulationOptions, seed }).options.node.readOnly)
  t.same([...modes].sort(), ['lease-based', 'safe'])
})
