// `npm run bench -- load` for real: the bench starts a node process, loads
// it for a second (over HTTP, then over the TCP SDK), stops it, and prints the CONTRACT §6 JSON line.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const benchMain = fileURLToPath(new URL('../../bench/main.js', import.meta.url))
const RUN_TIMEOUT_MS = 90_000

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [benchMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)))
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>
}

/** What is wrong with the latency fields of a result (nothing, when the list is empty). */
function latencyProblems(result: Record<string, unknown>): string[] {
  const fields = ['p50Ms', 'p99Ms', 'p999Ms', 'maxMs']
  const problems = fields.filter((f) => !(typeof result[f] === 'number' && (result[f] as number) > 0)).map((f) => `${f} is not a positive number: ${String(result[f])}`)
  const [p50, p99, p999, max] = fields.map((f) => result[f] as number)
  if (!(p50! <= p99! && p99! <= p999! && p999! <= max!)) problems.push(`percentiles out of order: ${p50} ${p99} ${p999} ${max}`)
  return problems
}

t.test('closed-loop ingest against one real node process', { timeout: RUN_TIMEOUT_MS + 10_000 }, async (t) => {
  const { code, stdout, stderr } = await runBench(['load', '--scenario', 'ingest', '--duration', '1', '--warmup', '0', '--concurrency', '4', '--json'])
  t.equal(code, 0, 'exit 0') || t.comment(stderr)
  const result = lastJsonLine(stdout)
  t.equal(result['bench'], 'load')
  t.equal(result['scenario'], 'ingest')
  t.equal(result['transport'], 'http')
  t.equal(result['mode'], 'closed')
  t.equal(result['startedNodes'], true)
  t.ok((result['opsPerSec'] as number) > 0, `opsPerSec ${result['opsPerSec']}`)
  t.ok((result['ops'] as number) > 0)
  t.equal(result['errors'], 0, `no errors (${JSON.stringify(result['errorsByCode'])})`)
  t.same(latencyProblems(result), [], 'p50 <= p99 <= p99.9 <= max, all positive')
  const series = result['series'] as { second: number; ops: number; errors: number; p99Ms: number }[]
  t.equal(series.length, 1, 'one bucket per measured second')
  t.equal(series[0]!.second, 0)
  t.ok(series[0]!.ops > 0 && series[0]!.ops <= (result['ops'] as number))
  const operations = result['operations'] as { kind: string; ops: number }[]
  t.same(operations.map((o) => o.kind), ['send', 'send-batch'])
  t.equal(operations.reduce((sum, o) => sum + o.ops, 0), result['ops'], 'the kinds add up to the total')
})

t.test('open-loop kv over the TCP SDK against one real node process', { timeout: RUN_TIMEOUT_MS + 10_000 }, async (t) => {
  const { code, stdout, stderr } = await runBench(['load', '--scenario', 'kv', '--transport', 'tcp', '--mode', 'open', '--rate', '200', '--keys', '50', '--duration', '1', '--warmup', '0', '--json'])
  t.equal(code, 0, 'exit 0') || t.comment(stderr)
  const result = lastJsonLine(stdout)
  t.equal(result['scenario'], 'kv')
  t.equal(result['mode'], 'open')
  t.equal(result['transport'], 'tcp')
  t.equal(result['ratePerSec'], 200)
  t.equal(result['issued'], 200, 'rate x duration requests sent')
  t.equal((result['ops'] as number) + (result['errors'] as number) + (result['dropped'] as number), 200, 'each scheduled request is answered, failed or dropped')
  t.same(latencyProblems(result), [], 'p50 <= p99 <= p99.9 <= max, all positive')
  t.same((result['operations'] as { kind: string }[]).map((o) => o.kind), ['get', 'put'])
})

t.test('a bad option is answered with its message and code, exit code 2, no stack', async (t) => {
  for (const args of [['failover', '--signal', 'SIGHUP'], ['queue', '--transport', 'udp'], ['kv', '--seconds', '-1'], ['queue', '--nodes', '2']]) {
    const { code, stdout, stderr } = await runBench(args)
    t.equal(code, 2, `${args.join(' ')}: exit code`)
    t.equal(stdout, '')
    t.match(stderr, new RegExp(`^npm run bench -- ${args[0]}: ${args[1]} must be .*\\(INVALID_OPTION\\)\\n$`), `${args.join(' ')}: one line`)
  }
})
