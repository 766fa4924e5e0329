// TickClock: ticks follow the clock, so a thread that stalled owes every
// tick it missed (up to the cap), and none is counted twice.
import t from 'tap'
import { TickClock } from '../../actors/tick-clock.js'

t.test('one tick per interval, the remainder carried over', async (t) => {
  const clock = new TickClock(100, 30, 1_000)
  t.equal(clock.due(1_050), 0)
  t.equal(clock.due(1_100), 1)
  t.equal(clock.due(1_150), 0, 'the tick at 1,100 is not owed again')
  t.equal(clock.due(1_250), 1, '1,200 is due; 50 ms carry over')
  t.equal(clock.due(1_299), 0)
  t.equal(clock.due(1_300), 1)
})

t.test('a stall is paid back in ticks at once, up to the cap', async (t) => {
  const clock = new TickClock(100, 30, 0)
  t.equal(clock.due(1_250), 12, 'a 1.25 s stall owes 12 ticks')
  t.equal(clock.due(1_300), 1)
  t.equal(clock.due(60_000), 30, 'a minute-long stall is capped')
  t.equal(clock.due(60_000), 0, 'and the skipped ticks are not owed later')
  t.equal(clock.due(60_100), 1)
})
