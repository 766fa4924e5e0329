// `npm run bench -- NAME [--json] [--key value ...]` (CONTRACT §6).
// Each benchmark is a module `bench/NAME.ts` exporting `main: BenchMain`.
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchArgs, BenchMain } from './lib/report.js'
import { LoadError } from './load/load-error.js'

function knownBenches(): string[] {
  const dir = fileURLToPath(new URL('.', import.meta.url))
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js') && f !== 'main.js')
    .map((f) => f.slice(0, -'.js'.length))
    .sort()
}

export function parseBenchArgs(argv: string[]): { name: string | undefined; args: BenchArgs } {
  const options = new Map<string, string | true>()
  let name: string | undefined
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--json') json = true
    else if (arg.startsWith('--')) {
      const next = argv[i + 1]
      if (next !== undefined && !next.startsWith('--')) {
        options.set(arg.slice(2), next)
        i++
      } else options.set(arg.slice(2), true)
    } else if (name === undefined) name = arg
  }
  return { name, args: { json, options } }
}

async function main(): Promise<void> {
  const { name, args } = parseBenchArgs(process.argv.slice(2))
  const known = knownBenches()
  if (name === undefined || !known.includes(name)) {
    if (name !== undefined) process.stderr.write(`unknown benchmark: ${name}\n`)
    process.stderr.write(`usage: npm run bench -- NAME [--json]\nbenchmarks: ${known.join(', ') || '(none yet)'}\n`)
    process.exitCode = 2
    return
  }
  const { main: run } = (await import(`./${name}.js`)) as { main: BenchMain }
  let result: unknown
  try {
    result = await run(args)
  } catch (error) {
    // A bad option is the user's to fix: its message, not a stack.
    if (!(error instanceof LoadError) || error.code !== 'INVALID_OPTION') throw error
    process.stderr.write(`npm run bench -- ${name}: ${error.message} (${error.code})\n`)
    process.exitCode = 2
    return
  }
  if (args.json) process.stdout.write(JSON.stringify(result) + '\n')
}

await main()
