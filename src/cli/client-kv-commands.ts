// `troupe kv get|put|del`.
import { KV_TTL_MS_MAX, KV_VALUE_BYTES_MAX } from '../machines/limits.js'
import type { CliKvEntry } from './client-api.js'
import { integerFlag } from './client-args.js'
import { CommandFailure, type ClientCommand } from './client-command.js'
import { readAllBounded } from './client-io.js'

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The --json form of a value: text when it is valid UTF-8, else base64. */
function valueDocument(key: string, entry: CliKvEntry): Record<string, unknown> {
  const bytes = entry.value
  let value: string
  let encoding: 'utf8' | 'base64'
  try {
    value = strictUtf8.decode(bytes)
    encoding = 'utf8'
  } catch {
    value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
    encoding = 'base64'
  }
  return { key, value, encoding, version: entry.version, ...(entry.expiresAt !== undefined ? { expiresAt: entry.expiresAt } : {}) }
}

const get: ClientCommand = {
  path: ['kv', 'get'],
  synopsis: 'KEY',
  summary: "print a key's value",
  details: [
    'Prints the value exactly as stored (bytes, no newline added unless stdout is a terminal).',
    'A key that does not exist fails with KEY_NOT_FOUND and exit code 1.',
    '--json prints {"key","value","encoding":"utf8"|"base64","version","expiresAt"?}.',
    'Reads are linearizable (through the shard leader) unless --stale.',
  ].join('\n'),
  options: {
    stale: { type: 'boolean', help: 'may read a follower: faster, possibly behind the latest write' },
  },
  positionals: { min: 1, max: 1 },
  prepare(args, values) {
    const key = args[0]!
    const consistency = values['stale'] === true ? 'stale' : 'linearizable'
    return async ({ client, io, print }) => {
      const entry = await client.kv.get(key, { consistency })
      if (entry === undefined) throw new CommandFailure('KEY_NOT_FOUND', `key '${key}' does not exist`)
      const ends = entry.value.byteLength > 0 && entry.value[entry.value.byteLength - 1] === 10
      const human = io.stdoutIsTty && !ends ? Buffer.concat([entry.value, Buffer.from('\n')]) : entry.value
      print(human, valueDocument(key, entry))
    }
  },
}

const put: ClientCommand = {
  path: ['kv', 'put'],
  synopsis: 'KEY VALUE|-',
  summary: 'set a key (VALUE as UTF-8 text, or the bytes of stdin with -)',
  details: [
    'Prints the new version (the log index of the write).',
    '--if-version V writes only when the current version is V (0: only when the key',
    'does not exist); otherwise it fails with CONFLICT. A put whose outcome is unknown',
    '(TIMEOUT, connection lost after sending) is not retried: it fails with that code.',
  ].join('\n'),
  options: {
    'ttl-ms': { type: 'string', arg: 'N', help: 'the key expires this long after the write (never)' },
    'if-version': { type: 'string', arg: 'V', help: 'write only when the current version is V' },
  },
  positionals: { min: 2, max: 2 },
  prepare(args, values) {
    const key = args[0]!
    const ttlMs = integerFlag(values, 'ttl-ms', { min: 1, max: KV_TTL_MS_MAX })
    const ifVersion = integerFlag(values, 'if-version')
    const options = { ...(ttlMs !== undefined ? { ttlMs } : {}), ...(ifVersion !== undefined ? { ifVersion } : {}) }
    return async ({ client, io, print }) => {
      const value = args[1] === '-' ? await readAllBounded(io.stdin, KV_VALUE_BYTES_MAX) : args[1]!
      const version = await client.kv.put(key, value, options)
      print(`version ${version}\n`, { key, version })
    }
  },
}

const del: ClientCommand = {
  path: ['kv', 'del'],
  synopsis: 'KEY',
  summary: 'delete a key',
  details: [
    'A key that does not exist fails with KEY_NOT_FOUND. --if-version V deletes only when',
    'the current version is V (else CONFLICT). Not retried once its outcome is unknown.',
  ].join('\n'),
  options: {
    'if-version': { type: 'string', arg: 'V', help: 'delete only when the current version is V' },
  },
  positionals: { min: 1, max: 1 },
  prepare(args, values) {
    const key = args[0]!
    const ifVersion = integerFlag(values, 'if-version')
    return async ({ client, print }) => {
      await client.kv.delete(key, ifVersion !== undefined ? { ifVersion } : undefined)
      print(`deleted key '${key}'\n`, { key, deleted: true })
    }
  },
}

export const kvCommands: ClientCommand[] = [get, put, del]
