import t from 'tap'
import { SimTrace } from '../../src/sim/trace.js'

t.test('keeps the last lines, oldest first, and counts them all', async (t) => {
  const trace = new SimTrace(3)
  for (let i = 1; i <= 5; i++) trace.record(i * 1000, `event ${i}`)
  t.same(trace.lastLines(), ['3.000s event 3', '4.000s event 4', '5.000s event 5'])
  t.equal(trace.eventCount, 5)
})

t.test('with a window keeps the last lines inside it', async (t) => {
  const trace = new SimTrace(2, undefined, { fromMs: 2000, toMs: 4000 })
  for (let i = 1; i <= 6; i++) trace.record(i * 1000, `event ${i}`)
  t.same(trace.lastLines(), ['3.000s event 3', '4.000s event 4'])
})

t.test('the hash covers every event and nothing else', async (t) => {
  const a = new SimTrace(1)
  const b = new SimTrace(100, undefined, { fromMs: 0, toMs: 1 })
  for (const trace of [a, b]) {
    trace.record(1, 'x')
    trace.record(2, 'y')
    trace.mix('final')
  }
  t.equal(a.hash, b.hash, 'what is kept does not change the hash')
  const c = new SimTrace(1)
  c.record(1, 'x')
  c.record(2, 'z')
  c.mix('final')
  t.not(c.hash, a.hash)
  t.match(a.hash, /^[0-9a-f]{16}$/)
})

t.test('echo sees every line', async (t) => {
  const seen: string[] = []
  const trace = new SimTrace(1, (line) => seen.push(line))
  trace.record(0, 'a')
  trace.record(1500, 'b')
  t.same(seen, ['0.000s a', '1.500s b'])
})
