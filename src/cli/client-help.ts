// The --help texts of the client commands, built from their definitions so
// that a flag cannot exist without its line of help.
import { commonOptions, type OptionSpec } from './client-args.js'
import type { ClientCommand } from './client-command.js'

export const connectionHelp = `connection and retries:
  The CLI asks a seed node (--nodes) for the cluster map, then sends each request
  straight to the leader of the shard that holds the queue or key. A node that
  does not lead it answers NOT_LEADER or MOVED with the leader's address: the
  request follows it at once and the map is refreshed. UNAVAILABLE (no leader
  yet, node shutting down), RATE_LIMITED, QUEUE_FULL, a node that cannot be
  reached and a connection lost before the request went out are retried with
  exponential backoff and full jitter (20 ms doubling up to 1 s, never less
  than the node's retryAfterMs) until the deadline: --timeout-ms, plus
  --wait-ms for a receive. Sends carry a random dedup id (or yours,
  --dedup-id) that every retry reuses, so a retried send is stored once. Reads
  and sends are also retried after TIMEOUT or a connection lost mid-request;
  ack, kv put and kv del are not, as their outcome is unknown: they fail with
  that code (check before repeating them). Past the deadline the command fails
  with DEADLINE_EXCEEDED, naming the attempts and the last error.

environment:
  TROUPE_NODES   seed addresses when --nodes is not given (127.0.0.1:7281)
  TROUPE_TOKEN   the token the nodes require, when they run with one

exit codes: 0 ok; 1 the request failed, with 'error CODE: message' on stderr
(with --json also {"error":{"code","message"}} on stdout); 2 usage error.
`

function optionLines(options: Record<string, OptionSpec>): string {
  const entries = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : ''}`
    return [flag, spec.help] as const
  })
  const width = Math.max(...entries.map(([flag]) => flag.length))
  return entries.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join('\n') + '\n'
}

export function commandUsageLine(command: ClientCommand): string {
  return `troupe ${[...command.path, command.synopsis].filter((part) => part !== '').join(' ')}`
}

export function commandHelp(command: ClientCommand): string {
  const own = Object.keys(command.options).length > 0 ? `options:\n${optionLines(command.options)}\n` : ''
  const details = command.details ? `${command.details}\n\n` : ''
  return (
    `usage: ${commandUsageLine(command)} [options]\n\n${command.summary}\n\n${details}${own}` +
    `common options:\n${optionLines(commonOptions)}\n${connectionHelp}`
  )
}

/** `troupe queue --help`: the commands of a group, one line each. */
export function groupHelp(group: string, commands: ClientCommand[]): string {
  const lines = commands.map((command) => [[...command.path.slice(1), command.synopsis].filter((p) => p !== '').join(' '), command.summary] as const)
  const width = Math.max(...lines.map(([usage]) => usage.length))
  return (
    `usage: troupe ${group} <command> [options]\n\ncommands:\n` +
    lines.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`).join('\n') +
    `\n\nrun 'troupe ${group} <command> --help' for its options, how it finds the leader and\nhow it retries.\n`
  )
}
