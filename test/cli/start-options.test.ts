// `troupe start` refuses a bad option before it touches anything: exit code
// 2 and a message naming the option, whether it came as a flag or from
// TROUPE_<NAME>.
import t from 'tap'
import { main } from '../../src/cli/main.js'

async function runStart(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const write = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  }) as typeof process.stderr.write
  try {
    return { code: await main(['start', ...argv]), stderr }
  } finally {
    process.stderr.write = write
  }
}

t.test('--reads takes safe or lease-based', async (t) => {
  const flag = await runStart(['--reads', 'fast', '--data', '/nonexistent/troupe-never-made'])
  t.equal(flag.code, 2)
  t.match(flag.stderr, /--reads must be 'safe' or 'lease-based', got 'fast'/)
  process.env['TROUPE_READS'] = 'sometimes'
  t.teardown(() => delete process.env['TROUPE_READS'])
  const env = await runStart(['--data', '/nonexistent/troupe-never-made'])
  t.equal(env.code, 2)
  t.match(env.stderr, /got 'sometimes'/)
})
