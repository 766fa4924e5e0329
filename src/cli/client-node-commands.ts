// `troupe node remove ID`: removes a member from the cluster for good,
// through whichever node the SDK reaches (see TroupeNode.removeMember).
import { ClientUsageError } from './client-args.js'
import type { ClientCommand } from './client-command.js'

const remove: ClientCommand = {
  path: ['node', 'remove'],
  synopsis: 'ID',
  summary: 'remove a member from the cluster for good (to replace a lost machine)',
  details: [
    'Every shard drops the node within a few seconds (troupe status shows the members).',
    'Then start the new machine with a new id and --join. A removed id cannot join again;',
    'a removed node that still runs should be stopped. Asked again, it succeeds. Not a member,',
    'or the only voting member: INVALID_ARGUMENT.',
  ].join('\n'),
  options: {},
  positionals: { min: 1, max: 1 },
  prepare(args) {
    const text = args[0]!
    if (!/^[1-9]\d{0,14}$/.test(text)) throw new ClientUsageError(`ID must be a node id (a positive integer), got '${text}'`)
    const id = Number(text)
    return async ({ client, print }) => {
      await client.removeNode(id)
      print(`removed node ${id} from the cluster\n`, { removed: id })
    }
  },
}

export const nodeCommands: ClientCommand[] = [remove]
