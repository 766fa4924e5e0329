import t from 'tap'
import { createRng } from '../../src/raft/rng.js'
import { defaultNetworkFaults, SimNetwork, type NetworkFaults } from '../../src/sim/network.js'

const reliable: NetworkFaults = { ...defaultNetworkFaults, lossRate: 0, duplicateRate: 0, slowRate: 0 }

t.test('a reliable network delivers one copy within the latency bounds', async (t) => {
  const network = new SimNetwork(createRng(1), reliable)
  const delays = Array.from({ length: 200 }, () => network.transmit(1, 2))
  t.ok(delays.every((d) => d.length === 1), 'one copy each')
  const flat = delays.flat()
  t.ok(Math.min(...flat) >= reliable.minLatencyMs && Math.max(...flat) <= reliable.maxLatencyMs, 'within bounds')
})

t.test('loss drops and duplication doubles', async (t) => {
  t.same(new SimNetwork(createRng(1), { ...reliable, lossRate: 1 }).transmit(1, 2), [])
  t.equal(new SimNetwork(createRng(1), { ...reliable, duplicateRate: 1 }).transmit(1, 2).length, 2)
  const lossy = new SimNetwork(createRng(3), { ...reliable, lossRate: 0.3 })
  let delivered = 0
  for (let i = 0; i < 1000; i++) delivered += lossy.transmit(1, 2).length
  t.ok(delivered > 600 && delivered < 800, `delivered ${delivered} of 1000 at 30% loss`)
  t.equal(lossy.stats.dropped, 1000 - delivered)
})

t.test('a symmetric partition blocks both directions between the groups only', async (t) => {
  const network = new SimNetwork(createRng(1), reliable)
  network.partition([1], [2, 3])
  t.notOk(network.canDeliver(1, 2))
  t.notOk(network.canDeliver(3, 1))
  t.ok(network.canDeliver(2, 3))
  t.same(network.transmit(2, 1), [])
  t.equal(network.stats.blocked, 1)
  network.heal()
  t.ok(network.canDeliver(1, 2))
  t.same(network.blockedLinks(), [])
})

t.test('an asymmetric partition blocks one direction', async (t) => {
  const network = new SimNetwork(createRng(1), reliable)
  network.blockOneWay(1, 2)
  t.notOk(network.canDeliver(1, 2))
  t.ok(network.canDeliver(2, 1))
  t.same(network.blockedLinks(), ['1>2'])
})

t.test('the same seed draws the same fates', async (t) => {
  const run = (seed: number) => {
    const network = new SimNetwork(createRng(seed), defaultNetworkFaults)
    return Array.from({ length: 300 }, () => network.transmit(1, 2).join('+')).join(',')
  }
  t.equal(run(42), run(42))
  t.not(run(42), run(43))
})

t.test('latencies must be ordered', async (t) => {
  t.throws(() => new SimNetwork(createRng(1), { ...reliable, minLatencyMs: 9, maxLatencyMs: 3 }), RangeError)
})
