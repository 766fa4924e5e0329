// Options of `npm run bench -- peers`, with their defaults in one place.
import { numberOption } from '../lib/report.js'
import { PeerBenchError } from './peer-error.js'

export const SYSTEMS = ['nats', 'bullmq', 'etcd', 'redis', 'troupe'] as const
export type SystemName = (typeof SYSTEMS)[number]

export const TRANSPORTS = ['tcp', 'http'] as const
export type Transport = (typeof TRANSPORTS)[number]

export interface PeersOptions {
  /** Systems to run, in the fixed order of SYSTEMS (one at a time). */
  systems: SystemName[]
  /** Concurrent callers, each waiting for its answer before the next call. */
  clients: number
  /** Payload of a message or KV value. */
  sizeBytes: number
  warmupMs: number
  durationMs: number
  /** How the bench talks to Troupe: the TCP SDK (default) or the HTTP API. */
  transport: Transport
  /** Install missing Debian packages with apt-get even when not root. */
  install: boolean
  smoke: boolean
  json: boolean
}

export const DEFAULTS = {
  clients: 32,
  sizeBytes: 256,
  durationS: 10,
  warmupS: 2,
  smokeDurationS: 1,
  smokeWarmupS: 0.2,
} as const

/** Upper bounds, so that a typo cannot start a day-long run or a huge allocation. */
export const LIMITS = {
  clients: 1024,
  sizeBytes: 1024 * 1024,
  durationS: 3600,
} as const

export function parseSystems(raw: string | true | undefined): SystemName[] {
  if (raw === undefined) return [...SYSTEMS]
  if (raw === true || raw.trim() === '') throw new PeerBenchError('INVALID_OPTION', `--only needs a list, e.g. --only ${SYSTEMS.join(',')}`)
  const wanted = raw.split(',').map((name) => name.trim().toLowerCase())
  for (const name of wanted) {
    if (!(SYSTEMS as readonly string[]).includes(name)) {
      throw new PeerBenchError('INVALID_OPTION', `--only: unknown system '${name}' (known: ${SYSTEMS.join(', ')})`)
    }
  }
  return SYSTEMS.filter((name) => wanted.includes(name))
}

function bounded(options: Map<string, string | true>, name: string, fallback: number, max: number, integer: boolean): number {
  let value: number
  try {
    value = numberOption(options, name, fallback, integer)
  } catch (error) {
    throw new PeerBenchError('INVALID_OPTION', (error as Error).message)
  }
  if (value > max) throw new PeerBenchError('INVALID_OPTION', `--${name} must be at most ${max}, got ${value}`)
  return value
}

export function parsePeersOptions(options: Map<string, string | true>, json: boolean): PeersOptions {
  const known = new Set(['only', 'duration', 'warmup', 'clients', 'size', 'transport', 'install', 'smoke'])
  for (const name of options.keys()) {
    if (!known.has(name)) throw new PeerBenchError('INVALID_OPTION', `unknown option --${name} (known: ${[...known].map((k) => `--${k}`).join(' ')})`)
  }
  for (const flag of ['install', 'smoke']) {
    if (options.has(flag) && options.get(flag) !== true) throw new PeerBenchError('INVALID_OPTION', `--${flag} takes no value`)
  }
  const transport = options.get('transport') ?? 'tcp'
  if (transport === true || !(TRANSPORTS as readonly string[]).includes(transport)) {
    throw new PeerBenchError('INVALID_OPTION', `--transport must be one of ${TRANSPORTS.join(', ')}`)
  }
  const smoke = options.get('smoke') === true
  const durationS = bounded(options, 'duration', smoke ? DEFAULTS.smokeDurationS : DEFAULTS.durationS, LIMITS.durationS, false)
  const warmupS = bounded(options, 'warmup', smoke ? DEFAULTS.smokeWarmupS : DEFAULTS.warmupS, LIMITS.durationS, false)
  return {
    systems: parseSystems(options.get('only')),
    clients: bounded(options, 'clients', DEFAULTS.clients, LIMITS.clients, true),
    sizeBytes: bounded(options, 'size', DEFAULTS.sizeBytes, LIMITS.sizeBytes, true),
    warmupMs: Math.round(warmupS * 1000),
    durationMs: Math.round(durationS * 1000),
    transport: transport as Transport,
    install: options.get('install') === true,
    smoke,
    json,
  }
}
