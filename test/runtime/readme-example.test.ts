// The README's runtime example is examples/runtime-hello.mjs verbatim; this
// test keeps the two in sync and runs the example as a user would.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const root = fileURLToPath(new URL('../../../', import.meta.url))

t.test('the README shows examples/runtime-hello.mjs verbatim', async (t) => {
  const readme = readFileSync(`${root}README.md`, 'utf8')
  const example = readFileSync(`${root}examples/runtime-hello.mjs`, 'utf8')
  t.ok(readme.includes(example.trim()), 'README.md contains the example file unchanged')
})

t.test('the runtime example runs and prints what it promises', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [`${root}examples/runtime-hello.mjs`], {
    cwd: root,
    timeout: 30_000,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  })
  t.equal(
    stdout,
    ['count: 5', 'failed: ACTOR_FAILED', 'after restart: 1', '7 squared on a worker: 49', ''].join('\n'),
  )
})
