// The `troupe` command line (CONTRACT §1). Commands arrive with the issues
// that build them; what is not built yet says so and exits non-zero.
const usage = `usage: troupe <command> [options]

commands:
  start     run one node in this process   (not built yet: the node arrives with the node issue)
  cluster   run a local N-node cluster     (not built yet)
  help      show this text
`

export async function main(argv: string[]): Promise<number> {
  const [command] = argv
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage)
      return 0
    case 'start':
    case 'cluster':
      process.stderr.write(
        `troupe ${command}: not available yet. This checkout has the actor runtime, ` +
          `the Raft core and the WAL; the node that serves queues and KV is still being built.\n`,
      )
      return 1
    default:
      process.stderr.write(`troupe: unknown command '${command}'\n\n${usage}`)
      return 2
  }
}
