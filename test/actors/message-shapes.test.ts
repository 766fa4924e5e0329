// The node's declared message shapes: distinct, none already an envelope
// shape, and few enough that the codec keeps one-byte record ids.
import t from 'tap'
import { troupeMessageShapes } from '../../actors/message-shapes.js'
import { envelopeStructures } from '../../src/runtime/envelope.js'

t.test('the message shapes fit the one-byte record table', async (t) => {
  const all = [...envelopeStructures, ...troupeMessageShapes].map((keys) => JSON.stringify(keys))
  t.equal(new Set(all).size, all.length, 'no shape is listed twice')
  t.ok(all.length <= 32, `${all.length} shapes with the envelope's, at most 32`)
})
