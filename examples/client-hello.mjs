// Talking to a running Troupe cluster over TCP with the SDK.
// Start a node (`npx troupe start`), then run `node examples/client-hello.mjs`.
// TROUPE_NODES lists seed addresses (default 127.0.0.1:7281); TROUPE_TOKEN is sent when set.
import { connect, TroupeClientError } from 'troupe/client'

const client = await connect({ nodes: (process.env.TROUPE_NODES ?? '127.0.0.1:7281').split(',') })

await client.queues.put('greetings', { visibilityTimeoutMs: 30_000 })
const id = await client.queues.send('greetings', { to: 'ada', text: 'hello' }, { priority: 5 })
const [message] = await client.queues.receive('greetings', { max: 10, waitMs: 1_000 })
console.log('received:', message.body.text, message.id === id)
await client.queues.ack('greetings', message.receipt)

const version = await client.kv.put('config/theme', 'dark')
const entry = await client.kv.get('config/theme') // linearizable by default; { consistency: 'stale' } reads a follower
console.log('kv:', entry.value.toString(), entry.version === version)

try {
  await client.kv.put('config/theme', 'light', { ifVersion: version + 1 })
} catch (error) {
  console.log('conflict:', error instanceof TroupeClientError && error.code) // stable codes; never retried blindly
}

await client.close()
