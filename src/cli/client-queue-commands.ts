// `troupe queue create|send|receive|ack|stats|list|purge|delete`.
import {
  ACK_RECEIPTS_MAX,
  DEDUP_ID_LENGTH_MAX,
  MESSAGE_BODY_BYTES_MAX,
  PRIORITY_MAX,
  PRIORITY_MIN,
  RECEIVE_MESSAGES_MAX,
  RECEIVE_WAIT_MS_MAX,
  SEND_BATCH_MESSAGES_MAX,
} from '../machines/limits.js'
import type { CliBatchMessage, CliMessage, CliQueueConfig, CliQueueStats, CliSendOptions } from './client-api.js'
import { ClientUsageError, integerFlag, stringFlag, type FlagValues } from './client-args.js'
import { CommandFailure, type ClientCommand, type CommandContext } from './client-command.js'
import { bodyText, isErrorLike, keyValues, table } from './client-format.js'
import { readLines } from './client-io.js'

/** Lines sent from stdin go out in batches of at most this many bytes of text (a request is at most 10 MiB). */
const STDIN_BATCH_BYTES_MAX = 4 * 1024 * 1024
/** With --json the ids of a stdin send are held for one document: a bound on that memory. */
const STDIN_MESSAGES_MAX = 1_000_000

function queueName(args: string[]): string {
  return args[0]!
}

const configFlags: [flag: string, field: Exclude<keyof CliQueueConfig, 'deadLetterQueue'>, help: string][] = [
  ['visibility-timeout-ms', 'visibilityTimeoutMs', 'how long a received message stays invisible (30000)'],
  ['max-receives', 'maxReceives', 'failed deliveries before dead-lettering, 0 = never (0)'],
  ['max-messages', 'maxMessages', 'messages the queue may hold, 0 = unlimited (0)'],
  ['delay-ms', 'delayMs', 'default delay before a sent message is visible (0)'],
  ['retention-ms', 'retentionMs', 'messages older than this are dropped, 0 = kept forever (345600000)'],
]

function configPatch(values: FlagValues): Partial<CliQueueConfig> {
  const patch: Partial<CliQueueConfig> = {}
  for (const [flag, field] of configFlags) {
    const value = integerFlag(values, flag)
    if (value !== undefined) patch[field] = value
  }
  const deadLetterQueue = stringFlag(values, 'dead-letter-queue')
  if (deadLetterQueue !== undefined) patch.deadLetterQueue = deadLetterQueue === '' ? null : deadLetterQueue
  return patch
}

function configPairs(config: CliQueueConfig): [string, string][] {
  return [
    ['visibilityTimeoutMs', String(config.visibilityTimeoutMs)],
    ['maxReceives', String(config.maxReceives)],
    ['deadLetterQueue', config.deadLetterQueue ?? '-'],
    ['maxMessages', String(config.maxMessages)],
    ['delayMs', String(config.delayMs)],
    ['retentionMs', String(config.retentionMs)],
  ]
}

function statsPairs(stats: CliQueueStats): [string, string][] {
  return [
    ['visible', String(stats.visible)],
    ['inFlight', String(stats.inFlight)],
    ['delayed', String(stats.delayed)],
    ['total', String(stats.total)],
  ]
}

const create: ClientCommand = {
  path: ['queue', 'create'],
  synopsis: 'NAME',
  summary: 'create a queue, or change the given settings of an existing one',
  details: "Prints whether the queue was created or already existed, then its settings.\nAn empty --dead-letter-queue '' removes the dead-letter queue.",
  options: {
    ...Object.fromEntries(configFlags.map(([flag, , help]) => [flag, { type: 'string', arg: 'N', help }])),
    'dead-letter-queue': { type: 'string', arg: 'Q', help: 'queue that receives dead-lettered messages (none)' },
  },
  positionals: { min: 1, max: 1 },
  prepare(args, values) {
    const name = queueName(args)
    const patch = configPatch(values)
    return async ({ client, print }) => {
      const result = await client.queues.put(name, Object.keys(patch).length > 0 ? patch : undefined)
      const headline = result.created ? `created queue '${name}'` : `queue '${name}' already existed; settings now:`
      print(`${headline}\n${keyValues(configPairs(result.config))}`, { name, created: result.created, config: result.config })
    }
  },
}

function argumentBody(text: string, asJson: boolean): unknown {
  if (!asJson) return text
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new ClientUsageError(`BODY is not valid JSON (--json-body): ${(error as Error).message}`)
  }
}

function sendOptions(values: FlagValues): CliSendOptions {
  const priority = integerFlag(values, 'priority', { min: PRIORITY_MIN, max: PRIORITY_MAX })
  const delayMs = integerFlag(values, 'delay-ms')
  const dedupId = stringFlag(values, 'dedup-id')
  if (dedupId !== undefined && (dedupId === '' || dedupId.length > DEDUP_ID_LENGTH_MAX - 16)) {
    throw new ClientUsageError(`--dedup-id must be 1 to ${DEDUP_ID_LENGTH_MAX - 16} characters`)
  }
  return {
    ...(priority !== undefined ? { priority } : {}),
    ...(delayMs !== undefined ? { delayMs } : {}),
    ...(dedupId !== undefined ? { dedupId } : {}),
  }
}

/** A line of stdin that cannot be a message: bad input data, not a bad command line. */
function badLine(message: string): CommandFailure {
  return new CommandFailure('INVALID_ARGUMENT', message)
}

function lineBody(line: string, lineNumber: number, asJson: boolean): unknown {
  if (!asJson) return line
  try {
    return JSON.parse(line) as unknown
  } catch (error) {
    throw badLine(`line ${lineNumber} of stdin is not valid JSON (--json-body): ${(error as Error).message}`)
  }
}

/**
 * Sends stdin line by line in bounded batches. Whatever stops it midway (a
 * failed batch, a line that is not JSON or too long) fails the command with
 * the count of messages already sent and the first line that was not.
 */
async function sendLines(context: CommandContext, name: string, options: CliSendOptions, asJson: boolean): Promise<void> {
  const { client, io, settings } = context
  const ids: string[] = []
  let sentCount = 0
  let batch: CliBatchMessage[] = []
  let batchBytes = 0
  let firstUnsentLine = 1
  const flush = async () => {
    if (batch.length === 0) return
    const batchIds = await client.queues.sendBatch(name, batch)
    sentCount += batchIds.length
    if (settings.json) ids.push(...batchIds)
    else io.stdout.write(batchIds.map((id) => `${id}\n`).join(''))
    batch = []
    batchBytes = 0
  }
  try {
    for await (const { line, lineNumber } of readLines(io.stdin, MESSAGE_BODY_BYTES_MAX)) {
      const lineBytes = Buffer.byteLength(line)
      if (batch.length >= SEND_BATCH_MESSAGES_MAX || batchBytes + lineBytes > STDIN_BATCH_BYTES_MAX) await flush()
      if (batch.length === 0) firstUnsentLine = lineNumber
      if (sentCount + batch.length >= STDIN_MESSAGES_MAX) throw badLine(`stdin holds more than ${STDIN_MESSAGES_MAX} messages: split it`)
      batch.push({
        body: lineBody(line, lineNumber, asJson),
        ...(options.priority !== undefined ? { priority: options.priority } : {}),
        ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
        // One id for all lines would keep only the first: line n gets ID-n, so a re-run of the same input adds nothing.
        ...(options.dedupId !== undefined ? { dedupId: `${options.dedupId}-${lineNumber}` } : {}),
      })
      batchBytes += lineBytes
    }
    await flush()
  } catch (error) {
    if (!isErrorLike(error)) throw error
    const before = sentCount === 0 ? 'nothing was sent' : `the first ${sentCount} messages were sent`
    throw new CommandFailure(error.code, `${error.message} (${before}; stdin from line ${firstUnsentLine} on was not)`, {
      cause: error,
      extra: { sent: sentCount, ...(settings.json ? { ids } : {}), notSentFromLine: firstUnsentLine },
    })
  }
  if (settings.json) context.print('', { ids })
}

const send: ClientCommand = {
  path: ['queue', 'send'],
  synopsis: 'NAME BODY|-',
  summary: 'send a message (or one per line of stdin with -)',
  details: [
    'Prints the id of each message sent, one per line.',
    'BODY is sent as a string, or parsed as JSON with --json-body. A BODY that',
    "starts with '-' goes after '--': troupe queue send jobs -- -1.",
    'With -, every non-blank line of stdin is one message; lines go out in',
    'batches of up to 1000 (all or nothing per batch), and with --dedup-id ID',
    'line n gets the dedup id ID-n, so sending the same input again within',
    'five minutes adds nothing. A failed batch, or a line that is not JSON or is',
    'over 1 MiB, stops the command (exit 1), saying how many messages were sent',
    'and the first line that was not.',
  ].join('\n'),
  options: {
    priority: { type: 'string', arg: 'P', help: `${PRIORITY_MIN} to ${PRIORITY_MAX}, higher is delivered first (0)` },
    'delay-ms': { type: 'string', arg: 'N', help: "invisible for this long after the send (the queue's delayMs)" },
    'dedup-id': { type: 'string', arg: 'ID', help: 'a send repeating it within 5 minutes returns the first id and adds nothing' },
    'json-body': { type: 'boolean', help: 'parse BODY (or each line) as JSON instead of sending it as a string' },
  },
  positionals: { min: 2, max: 2 },
  prepare(args, values) {
    const name = queueName(args)
    const options = sendOptions(values)
    const asJson = values['json-body'] === true
    if (args[1] === '-') return (context) => sendLines(context, name, options, asJson)
    const body = argumentBody(args[1]!, asJson)
    return async ({ client, print }) => {
      const id = await client.queues.send(name, body, options)
      print(`${id}\n`, { id })
    }
  },
}

function receivedTable(messages: CliMessage[]): string {
  if (messages.length === 0) return 'no messages\n'
  return table(
    ['ID', 'RECEIPT', 'RECEIVES', 'BODY'],
    messages.map((message) => [message.id, message.receipt, String(message.receiveCount), bodyText(message.body)]),
  )
}

const receive: ClientCommand = {
  path: ['queue', 'receive'],
  synopsis: 'NAME',
  summary: 'receive messages; they stay invisible until acked or the visibility timeout lapses',
  details: [
    "Prints id, receipt, receive count and body of each message ('no messages' when none",
    'came). Ack with the receipt: troupe queue ack NAME RECEIPT. The deadline of a receive',
    'is --timeout-ms plus --wait-ms. Bodies that are not strings print as JSON; --json',
    'prints everything, byte arrays as {"$base64": "..."}.',
  ].join('\n'),
  options: {
    max: { type: 'string', arg: 'N', help: `messages to receive at most, 1 to ${RECEIVE_MESSAGES_MAX} (1)` },
    'wait-ms': { type: 'string', arg: 'N', help: `long poll: wait up to this long for a message, 0 to ${RECEIVE_WAIT_MS_MAX} (0)` },
    'visibility-timeout-ms': { type: 'string', arg: 'N', help: "instead of the queue's visibility timeout" },
  },
  positionals: { min: 1, max: 1 },
  prepare(args, values) {
    const name = queueName(args)
    const max = integerFlag(values, 'max', { min: 1, max: RECEIVE_MESSAGES_MAX })
    const waitMs = integerFlag(values, 'wait-ms', { max: RECEIVE_WAIT_MS_MAX })
    const visibilityTimeoutMs = integerFlag(values, 'visibility-timeout-ms', { min: 1 })
    const options = {
      ...(max !== undefined ? { max } : {}),
      ...(waitMs !== undefined ? { waitMs } : {}),
      ...(visibilityTimeoutMs !== undefined ? { visibilityTimeoutMs } : {}),
    }
    return async ({ client, print }) => {
      const messages = await client.queues.receive(name, options)
      print(receivedTable(messages), { messages })
    }
  },
}

const ack: ClientCommand = {
  path: ['queue', 'ack'],
  synopsis: 'NAME RECEIPT...',
  summary: 'acknowledge received messages: they are deleted',
  details: [
    'A receipt names one delivery: after its visibility timeout lapsed it is no longer valid.',
    'When some receipts are not found, the others are still acked and the command fails with',
    'RECEIPT_NOT_FOUND listing the missing ones. An ack whose outcome is unknown (TIMEOUT,',
    'connection lost after sending) is not retried: it fails with that code.',
  ].join('\n'),
  options: {},
  positionals: { min: 2, max: 1 + ACK_RECEIPTS_MAX },
  prepare(args) {
    const name = queueName(args)
    const receipts = args.slice(1)
    return async ({ client, print }) => {
      await client.queues.ack(name, receipts.length === 1 ? receipts[0]! : receipts)
      print(`acked ${receipts.length} message${receipts.length === 1 ? '' : 's'}\n`, { acked: receipts.length })
    }
  },
}

const stats: ClientCommand = {
  path: ['queue', 'stats'],
  synopsis: 'NAME',
  summary: "a queue's message counts and settings",
  details: 'visible: can be received now; inFlight: received, not yet acked; delayed: not visible yet.',
  options: {},
  positionals: { min: 1, max: 1 },
  prepare(args) {
    const name = queueName(args)
    return async ({ client, print }) => {
      const queue = await client.queues.get(name)
      print(keyValues([['name', queue.name], ...statsPairs(queue.stats), ...configPairs(queue.config)]), queue)
    }
  },
}

const list: ClientCommand = {
  path: ['queue', 'list'],
  synopsis: '',
  summary: 'every queue with its message counts',
  options: {},
  positionals: { min: 0, max: 0 },
  prepare() {
    return async ({ client, print }) => {
      const queues = await client.queues.list()
      const sorted = [...queues].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const human =
        sorted.length === 0
          ? 'no queues\n'
          : table(
              ['NAME', 'VISIBLE', 'IN-FLIGHT', 'DELAYED', 'TOTAL'],
              sorted.map(({ name, stats: s }) => [name, String(s.visible), String(s.inFlight), String(s.delayed), String(s.total)]),
            )
      print(human, { queues: sorted })
    }
  },
}

const purge: ClientCommand = {
  path: ['queue', 'purge'],
  synopsis: 'NAME',
  summary: 'delete every message of a queue, keeping the queue',
  options: {},
  positionals: { min: 1, max: 1 },
  prepare(args) {
    const name = queueName(args)
    return async ({ client, print }) => {
      await client.queues.purge(name)
      print(`purged queue '${name}'\n`, { queue: name, purged: true })
    }
  },
}

const remove: ClientCommand = {
  path: ['queue', 'delete'],
  synopsis: 'NAME',
  summary: 'delete a queue and its messages',
  options: {},
  positionals: { min: 1, max: 1 },
  prepare(args) {
    const name = queueName(args)
    return async ({ client, print }) => {
      await client.queues.delete(name)
      print(`deleted queue '${name}'\n`, { queue: name, deleted: true })
    }
  },
}

export const queueCommands: ClientCommand[] = [create, send, receive, ack, stats, list, purge, remove]
