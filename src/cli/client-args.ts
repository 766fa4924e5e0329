// The options every client command shares (where the cluster is, the
// deadline, the output form) and the checks of flag values. A bad flag is a
// usage error (exit 2) found before anything is sent.

/** A mistake in the command line: printed with a pointer to --help, exit code 2. */
export class ClientUsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ClientUsageError'
  }
}

export const DEFAULT_NODES = '127.0.0.1:7281'
export const DEFAULT_TIMEOUT_MS = 10_000
/** The SDK's own connect timeout, lowered when the whole deadline is shorter. */
export const CONNECT_TIMEOUT_MS = 3_000
/** Seeds given with --nodes: more than a cluster could have is a typo. */
export const SEED_NODES_MAX = 64

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** The value's name in the help, e.g. N or HOST:PORT,... (string options). */
  arg?: string
  help: string
}

export const commonOptions = {
  nodes: { type: 'string', arg: 'LIST', help: 'seed client TCP addresses, host:port,host:port (TROUPE_NODES, else 127.0.0.1:7281)' },
  'timeout-ms': { type: 'string', arg: 'N', help: `deadline of the request, retries included, in ms (${DEFAULT_TIMEOUT_MS})` },
  json: { type: 'boolean', help: 'print one JSON document on stdout instead of text' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies Record<string, OptionSpec>

export type FlagValues = Record<string, string | boolean | undefined>

export interface CommonSettings {
  nodes: string[]
  token: string | undefined
  timeoutMs: number
  json: boolean
}

export function commonSettings(values: FlagValues, env: Record<string, string | undefined>): CommonSettings {
  const nodesText = stringFlag(values, 'nodes') ?? nonEmpty(env['TROUPE_NODES']) ?? DEFAULT_NODES
  return {
    nodes: parseNodeList(nodesText),
    token: nonEmpty(env['TROUPE_TOKEN']),
    timeoutMs: integerFlag(values, 'timeout-ms', { min: 1 }) ?? DEFAULT_TIMEOUT_MS,
    json: values['json'] === true,
  }
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text
}

/** `host:port,host:port` → the addresses, each checked. */
export function parseNodeList(text: string): string[] {
  const nodes = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
  if (nodes.length === 0) throw new ClientUsageError('--nodes needs at least one host:port')
  if (nodes.length > SEED_NODES_MAX) throw new ClientUsageError(`--nodes takes at most ${SEED_NODES_MAX} addresses`)
  for (const node of nodes) {
    const at = node.lastIndexOf(':')
    const port = node.slice(at + 1)
    if (at <= 0 || !/^\d{1,5}$/.test(port) || Number(port) === 0 || Number(port) > 65535) {
      throw new ClientUsageError(`--nodes: '${node}' is not host:port`)
    }
  }
  return nodes
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** A flag holding a whole number, checked against `min` and `max`; undefined when absent. */
export function integerFlag(values: FlagValues, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const text = stringFlag(values, name)
  if (text === undefined) return undefined
  const min = range.min ?? 0
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    const bound = range.max === undefined ? `at least ${min}` : `from ${min} to ${max}`
    throw new ClientUsageError(`--${name} must be a whole number ${bound}, got '${text}'`)
  }
  return Number(text)
}
