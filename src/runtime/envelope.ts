// The frames that travel between threads, and the codec table they agree on.
// Key order matters: each shape matches one entry of `envelopeStructures`, so
// msgpackr writes it as a one-byte record reference.
import type { ExitReason } from './actor.js'

export const enum Kind {
  Tell = 0,
  Ask = 1,
  Reply = 2,
  Command = 3,
  Exit = 4,
  Part = 5,
}

export interface TellFrame {
  k: Kind.Tell
  to: number
  m: unknown
}

export interface AskFrame {
  k: Kind.Ask
  to: number
  m: unknown
  from: number
  ask: number
}

export interface ReplyFrame {
  k: Kind.Reply
  ask: number
  ok: boolean
  /** The answer, or a SerializedError when !ok. */
  v: unknown
}

/** A request to the kernel of another thread (create, start, stop actors). */
export interface CommandFrame {
  k: Kind.Command
  ask: number
  from: number
  cmd: KernelCommand
}

export interface ExitFrame {
  k: Kind.Exit
  id: number
  reason: SerializedExitReason
}

/**
 * A piece of one encoded frame too large for the ring: the pieces follow one
 * another on their ring, and the receiver decodes the whole frame once it
 * has the last. Rare and large, so not in the table below (written with its
 * keys).
 */
export interface PartFrame {
  k: Kind.Part
  last: boolean
  b: Uint8Array
}

export type Frame = TellFrame | AskFrame | ReplyFrame | CommandFrame | ExitFrame

export const envelopeStructures: readonly (readonly string[])[] = [
  ['k', 'to', 'm'],
  ['k', 'to', 'm', 'from', 'ask'],
  ['k', 'ask', 'ok', 'v'],
  ['k', 'ask', 'from', 'cmd'],
  ['k', 'id', 'reason'],
  ['code', 'message'],
]

export interface SerializedError {
  code: string
  message: string
}

export type SerializedExitReason = { kind: 'normal' } | { kind: 'shutdown' } | { kind: 'error'; error: SerializedError }

export interface RemoteActorDefinition {
  /** Module URL (file:// or package specifier) importable by the worker. */
  module: string
  /** Named export: a function `(args) => ActorFactory`. Default 'default'. */
  export?: string
  /** Passed to that function; must survive msgpack. */
  args?: unknown
}

export type KernelCommand =
  | {
      op: 'create'
      id: number
      name: string
      definition: RemoteActorDefinition
      mailbox?: { capacity?: number; overflow?: 'reject' | 'drop-oldest' }
      /** Where exits are reported: thread and the reporting channel's id. */
      supervisorThread: number
    }
  | { op: 'start'; id: number }
  | { op: 'stop'; id: number; reason: SerializedExitReason; timeoutMs: number }
  | { op: 'close'; id: number }
  | { op: 'metrics' }

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { code: typeof code === 'string' ? code : 'ERROR', message: error.message }
  }
  return { code: 'ERROR', message: String(error) }
}

export function serializeExit(reason: ExitReason): SerializedExitReason {
  return reason.kind === 'error' ? { kind: 'error', error: serializeError(reason.error) } : reason
}
