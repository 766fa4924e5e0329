// The README's node example is examples/node-hello.mjs verbatim; this test
// keeps the two in sync and runs it in a fresh directory as a user would.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { removeDir, tempDir } from './helpers.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))

t.test('the README shows examples/node-hello.mjs verbatim', async (t) => {
  const readme = readFileSync(`${root}README.md`, 'utf8')
  const example = readFileSync(`${root}examples/node-hello.mjs`, 'utf8')
  t.ok(readme.includes(example.trim()), 'README.md contains the example file unchanged')
})

t.test('the node example runs and prints what it promises', async (t) => {
  const cwd = await tempDir()
  t.teardown(() => removeDir(cwd))
  const { stdout } = await promisify(execFile)(process.execPath, [`${root}examples/node-hello.mjs`], {
    cwd,
    timeout: 60_000,
    env: { ...process.env, LOG_LEVEL: 'silent' },
  })
  t.equal(stdout, ['received: ada@example.com delivery 1', 'kv: dark true', 'conflict: CONFLICT', ''].join('\n'))
})
