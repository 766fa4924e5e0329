// Embedding the Troupe actor runtime: local actors, supervision, and actors on
// a worker thread. Run it with `node examples/runtime-hello.mjs`.
import { ActorSystem } from 'troupe/runtime'

const system = await ActorSystem.start({ name: 'hello' })

// An actor is a factory returning its behaviour; state lives in the closure.
// Messages are handled one at a time; what receive returns answers an ask.
const counter = await system.spawn(
  () => {
    let count = 0
    return {
      receive(msg) {
        if (msg.type === 'add') count += msg.n
        if (msg.type === 'fail') throw new Error('bad message')
        return count
      },
    }
  },
  { name: 'counter', mailbox: { capacity: 1000 } },
)

counter.tell({ type: 'add', n: 2 })
console.log('count:', await counter.ask({ type: 'add', n: 3 }, { timeoutMs: 1000 }))

// A failing message fails its asker; the supervisor restarts the actor (fresh
// state) and the same ref keeps working.
await counter.ask({ type: 'fail' }).catch((error) => console.log('failed:', error.code))
console.log('after restart:', await counter.ask({ type: 'add', n: 1 }))

// Actors on a worker thread are defined in a module the worker imports.
const workers = await system.spawnThread('workers')
const squarer = await workers.spawn({
  id: 'squarer',
  definition: { module: new URL('./squarer-actor.mjs', import.meta.url).href, export: 'squarer' },
})
console.log('7 squared on a worker:', await squarer.ask(7))

await system.shutdown()
