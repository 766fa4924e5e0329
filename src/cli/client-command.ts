// The shape of one client command (`queue send`, `kv get`, `status`): its
// flags and arguments for parsing and help, and what it does with a
// connected client.
import type { CliClient } from './client-api.js'
import type { CommonSettings, FlagValues, OptionSpec } from './client-args.js'
import type { CliIo } from './client-io.js'

export interface CommandContext {
  client: CliClient
  io: CliIo
  settings: CommonSettings
  /** Prints the result: `human` as text (or raw bytes), or `json` as one JSON document with --json. */
  print(human: string | Uint8Array, json: unknown): void
}

export interface ClientCommand {
  /** The words that name it, e.g. ['queue', 'send']. */
  path: string[]
  /** The arguments after the path, e.g. 'NAME BODY|-'. */
  synopsis: string
  summary: string
  /** More help: what it prints, special cases. */
  details?: string
  options: Record<string, OptionSpec>
  positionals: { min: number; max: number }
  /**
   * Checks the arguments and returns the work to do with a client: usage
   * errors surface before any connection is made.
   */
  prepare(args: string[], values: FlagValues): (context: CommandContext) => Promise<void>
}

/** A failed request with a stable code, beyond the SDK's own errors (e.g. a missing key). */
export class CommandFailure extends Error {
  readonly code: string
  readonly missing: string[] | undefined
  /** Fields added to the --json error document, e.g. what was sent before the failure. */
  readonly extra: Record<string, unknown>

  constructor(code: string, message: string, details: { missing?: string[]; extra?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'CommandFailure'
    this.code = code
    this.missing = details.missing
    this.extra = details.extra ?? {}
  }
}
