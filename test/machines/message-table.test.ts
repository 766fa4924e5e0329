// MessageTable against a plain Map: the same answers for any sequence of adds
// and deletes, iteration in key order, and one Map entry per send.
import fc from 'fast-check'
import t from 'tap'
import { MESSAGE_SLOTS_PER_ENTRY } from '../../src/machines/limits.js'
import { MessageTable } from '../../src/machines/message-table.js'
import { MessageState, StoredMessage } from '../../src/machines/stored-message.js'

function message(logIndex: number, position: number): StoredMessage {
  return new StoredMessage(logIndex * MESSAGE_SLOTS_PER_ENTRY + position, 4, new Uint8Array(0), 0, MessageState.visible, 0, 0, 0)
}

t.test('behaves as a Map keyed by message key, and iterates in key order', async (t) => {
  // Sends in log order (each one or more positions, with gaps as dedup leaves) and deletes; after
  // each step every key is looked up.
  const send = fc.record({ positions: fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 8 }) })
  const step = fc.oneof(
    fc.record({ kind: fc.constant('send' as const), send }),
    fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('clear' as const) }),
  )
  fc.assert(
    fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
      const table = new MessageTable()
      const model = new Map<number, StoredMessage>()
      let logIndex = 0
      for (const s of steps) {
        if (s.kind === 'send') {
          logIndex++
          for (const position of [...s.send.positions].sort((a, b) => a - b)) {
            const m = message(logIndex, position)
            table.add(m)
            model.set(m.key, m)
          }
        } else if (s.kind === 'delete') {
          const keys = [...model.keys()]
          const key = keys.length === 0 ? 5 : keys[s.pick % keys.length]!
          if (table.delete(key) !== model.delete(key)) return false
          if (table.delete(key) !== false) return false
        } else {
          table.clear()
          model.clear()
        }
        if (table.size !== model.size) return false
        // Every key that is or was possible, present or not.
        for (let index = 1; index <= logIndex + 1; index++) {
          for (let position = 0; position <= 13; position++) {
            const key = index * MESSAGE_SLOTS_PER_ENTRY + position
            if (table.get(key) !== model.get(key) || table.has(key) !== model.has(key)) return false
          }
        }
        const listed = [...table.values()]
        const expected = [...model.values()].sort((a, b) => a.key - b.key)
        if (listed.length !== expected.length || listed.some((m, i) => m !== expected[i])) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})

t.test('a batch is one Map entry, released when its last message goes', async (t) => {
  const table = new MessageTable()
  const batch = Array.from({ length: 100 }, (_, i) => message(7, i))
  for (const m of batch) table.add(m)
  table.add(message(8, 0))
  const inner = (table as unknown as { bySend: Map<number, unknown> }).bySend
  t.equal(inner.size, 2, 'a batch of 100 and a lone message: two entries')
  t.equal(table.size, 101)
  for (const m of batch.slice(0, 99)) t.ok(table.delete(m.key))
  t.equal(inner.size, 2, 'the batch stays while one of its messages does')
  t.equal(table.get(batch[99]!.key), batch[99])
  t.ok(table.delete(batch[99]!.key))
  t.equal(inner.size, 1)
  t.equal(table.size, 1)
  t.same([...table.values()].map((m) => m.key), [8 * MESSAGE_SLOTS_PER_ENTRY])
})
