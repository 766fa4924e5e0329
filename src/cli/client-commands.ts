// The client commands of the `troupe` CLI (`status`, `queue ...`, `kv ...`),
// built on the SDK: parse the command line, connect, run one request, print
// it for a person or as JSON, and turn the outcome into an exit code
// (0 ok, 1 the request failed, 2 usage error).
import { parseArgs } from 'node:util'
import type { CliClient, CliConnect } from './client-api.js'
import { ClientUsageError, commonOptions, commonSettings, CONNECT_TIMEOUT_MS, type FlagValues, type OptionSpec } from './client-args.js'
import { CommandFailure, type ClientCommand, type CommandContext } from './client-command.js'
import { errorDocument, errorLine, isErrorLike, jsonText } from './client-format.js'
import { commandHelp, commandUsageLine, groupHelp } from './client-help.js'
import { processIo, type CliIo } from './client-io.js'
import { kvCommands } from './client-kv-commands.js'
import { nodeCommands } from './client-node-commands.js'
import { queueCommands } from './client-queue-commands.js'
import { statusCommand } from './client-status-command.js'

export const clientCommandGroups = ['status', 'queue', 'kv', 'node'] as const
export type ClientCommandGroup = (typeof clientCommandGroups)[number]

export function isClientCommandGroup(word: string | undefined): word is ClientCommandGroup {
  return (clientCommandGroups as readonly (string | undefined)[]).includes(word)
}

/** Connects with the SDK, loaded only once a command is ready to send (help and usage errors do not need it). */
export const sdkConnect: CliConnect = async (options) => {
  const { connect } = await import('../client/index.js')
  // Assigning the SDK's client here checks that it still offers what the commands use.
  const client: CliClient = await connect(options)
  return client
}

export interface ClientCommandDeps {
  io?: CliIo
  connect?: CliConnect
  /** The commands to choose from; tests replace `status` to avoid its HTTP requests. */
  commands?: ClientCommand[]
}

export function allClientCommands(): ClientCommand[] {
  return [statusCommand(), ...queueCommands, ...kvCommands, ...nodeCommands]
}

const helpWords = new Set(['help', '--help', '-h'])

/** Runs `troupe <argv...>` where argv[0] is `status`, `queue` or `kv`; resolves the exit code. */
export async function runClientCommand(argv: string[], deps: ClientCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo()
  const commands = deps.commands ?? allClientCommands()
  const [group, ...rest] = argv
  const inGroup = commands.filter((command) => command.path[0] === group)
  if (inGroup.length === 0) {
    io.stderr.write(`troupe: unknown command '${group}'\n`)
    return 2
  }
  const single = inGroup.find((command) => command.path.length === 1)
  if (single) return runOne(single, rest, io, deps.connect ?? sdkConnect)

  const [word, ...args] = rest
  if (word === undefined || helpWords.has(word)) {
    const text = groupHelp(group!, inGroup)
    if (word === undefined) {
      io.stderr.write(`troupe ${group}: which command?\n\n${text}`)
      return 2
    }
    io.stdout.write(text)
    return 0
  }
  const command = inGroup.find((candidate) => candidate.path[1] === word)
  if (!command) {
    io.stderr.write(`troupe ${group}: unknown command '${word}'\n\n${groupHelp(group!, inGroup)}`)
    return 2
  }
  return runOne(command, args, io, deps.connect ?? sdkConnect)
}

function parseOptions(options: Record<string, OptionSpec>): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  return Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [name, spec.short ? { type: spec.type, short: spec.short } : { type: spec.type }]),
  )
}

async function runOne(command: ClientCommand, argv: string[], io: CliIo, connectTo: CliConnect): Promise<number> {
  const name = `troupe ${command.path.join(' ')}`
  let client: CliClient | undefined
  let json = false
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: parseOptions({ ...commonOptions, ...command.options }),
      allowPositionals: true,
      strict: true,
    })
    const flags = values as FlagValues
    if (flags['help'] === true) {
      io.stdout.write(commandHelp(command))
      return 0
    }
    json = flags['json'] === true
    const { min, max } = command.positionals
    if (positionals.length < min || positionals.length > max) {
      const expected = min === max ? `${min}` : `${min} to ${max}`
      throw new ClientUsageError(`expected ${expected} argument${max === 1 ? '' : 's'} (${commandUsageLine(command)}), got ${positionals.length}`)
    }
    const settings = commonSettings(flags, io.env)
    const work = command.prepare(positionals, flags)
    client = await connectTo({
      nodes: settings.nodes,
      ...(settings.token !== undefined ? { token: settings.token } : {}),
      clientName: 'troupe-cli',
      // The SDK adds a receive's waitMs to this deadline itself.
      deadlineMs: settings.timeoutMs,
      connectTimeoutMs: Math.min(CONNECT_TIMEOUT_MS, settings.timeoutMs),
    })
    const context: CommandContext = {
      client,
      io,
      settings,
      print(human, document) {
        io.stdout.write(settings.json ? `${jsonText(document)}\n` : human)
      },
    }
    await work(context)
    return 0
  } catch (error) {
    if (error instanceof ClientUsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`${name}: ${(error as Error).message}\n\nrun '${name} --help' for the options\n`)
      return 2
    }
    if (isErrorLike(error)) {
      io.stderr.write(errorLine(error))
      if (json) {
        const extra = error instanceof CommandFailure ? error.extra : {}
        io.stdout.write(`${jsonText({ ...errorDocument(error), ...extra })}\n`)
      }
      return 1
    }
    io.stderr.write(`${name}: ${(error as Error).message ?? String(error)}\n`)
    return 1
  } finally {
    await client?.close().catch(() => undefined)
  }
}
