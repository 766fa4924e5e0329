import t from 'tap'
import { Network } from './network.js'

t.test('three nodes elect a leader and replicate', async (t) => {
  const net = new Network([1, 2, 3])
  net.elect(1)
  t.same(net.leaders(), [1])
  net.propose(1, 'a', 'b')
  for (const id of [1, 2, 3]) t.same(net.get(id).applied, ['a', 'b'], `node ${id} applied`)
})
