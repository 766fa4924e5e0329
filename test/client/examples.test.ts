// The examples/client-*.mjs files run as a user would, against a real node,
// and print what their comments promise.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { missingServer, planNodes } from './real-nodes.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const missing = missingServer()

t.test('the SDK examples run against a real node', { skip: missing }, async (t) => {
  const plan = await planNodes(1)
  t.teardown(() => plan.stopAll())
  const tcp = await plan.start(1).tcp
  const run = async (file: string): Promise<string> => {
    const { stdout } = await promisify(execFile)(process.execPath, [`${root}examples/${file}`], {
      cwd: plan.dir,
      timeout: 60_000,
      env: { ...process.env, TROUPE_NODES: tcp, LOG_LEVEL: 'silent' },
    })
    return stdout
  }
  t.equal(await run('client-hello.mjs'), ['received: hello true', 'kv: dark true', 'conflict: CONFLICT', ''].join('\n'))
  t.equal(await run('client-worker.mjs'), ['handled: 1,2,3,4,5 processed: 5 failed: 1', ''].join('\n'))
})
