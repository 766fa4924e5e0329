// The shards of a thread save snapshots one at a time; a failed save does
// not hold up the next one.
import t from 'tap'
import { saveInTurn } from '../../actors/shard-actor.js'

t.test('saves run one after another, whatever their outcome', async (t) => {
  const events: string[] = []
  let running = 0
  let most = 0
  const save = (name: string, ms: number, fail = false) => async () => {
    running++
    most = Math.max(most, running)
    events.push(`start ${name}`)
    await new Promise((resolve) => setTimeout(resolve, ms))
    running--
    events.push(`end ${name}`)
    if (fail) throw new Error(`${name} failed`)
    return name
  }
  const results = await Promise.allSettled([saveInTurn(save('a', 30)), saveInTurn(save('b', 5, true)), saveInTurn(save('c', 10))])
  t.equal(most, 1, 'never two at once')
  t.same(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c'])
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a', 'b failed', 'c'],
  )
})
