// The small KV state machine the simulated cluster replicates. Commands are
// JSON in the entry data. A write's version is the log index that applied it
// (unique and deterministic). Each client has a session (Raft thesis §6.3):
// a command whose request id is not newer than the client's last applied one
// is a duplicate (the network may deliver a request twice) and answers the
// remembered output instead of applying again.
import type { KvGetOutput, KvInput, KvOutput } from './history.js'
import { InvariantViolation } from './invariants.js'

export interface KvCommand {
  clientId: number
  requestId: number
  input: KvInput
}

interface Session {
  requestId: number
  output: KvOutput
}

interface Stored {
  value: string
  version: number
}

interface KvImage {
  appliedIndex: number
  data: [string, Stored][]
  sessions: [number, Session][]
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command))
}

export function decodeKvCommand(data: Uint8Array): KvCommand {
  return JSON.parse(decoder.decode(data)) as KvCommand
}

export class SimKvMachine {
  #data = new Map<string, Stored>()
  #sessions = new Map<number, Session>()
  #appliedIndex = 0

  get appliedIndex(): number {
    return this.#appliedIndex
  }

  /**
   * Applies the command at log `index` (indexes arrive in order). `null`: a
   * duplicate of a request older than the client's latest, which nobody awaits.
   */
  apply(index: number, command: KvCommand): KvOutput | null {
    if (index !== this.#appliedIndex + 1) {
      throw new InvariantViolation('STATE_MACHINE_SAFETY', `kv machine: asked to apply index ${index} after ${this.#appliedIndex}`)
    }
    this.#appliedIndex = index
    const session = this.#sessions.get(command.clientId)
    if (session !== undefined && command.requestId <= session.requestId) {
      return command.requestId === session.requestId ? session.output : null
    }
    const output = this.#execute(index, command.input)
    this.#sessions.set(command.clientId, { requestId: command.requestId, output })
    return output
  }

  /** Marks an index applied that carries no KV command (empty entries, membership changes). */
  skip(index: number): void {
    if (index !== this.#appliedIndex + 1) {
      throw new InvariantViolation('STATE_MACHINE_SAFETY', `kv machine: asked to skip index ${index} after ${this.#appliedIndex}`)
    }
    this.#appliedIndex = index
  }

  read(key: string): KvGetOutput {
    const stored = this.#data.get(key)
    return stored === undefined ? { kind: 'get', value: null } : { kind: 'get', value: stored.value, version: stored.version }
  }

  snapshot(): Uint8Array {
    const image: KvImage = {
      appliedIndex: this.#appliedIndex,
      data: [...this.#data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      sessions: [...this.#sessions].sort(([a], [b]) => a - b),
    }
    return encoder.encode(JSON.stringify(image))
  }

  /** Replaces the state by a snapshot taken at `index`; empty data is the initial state (a bootstrap snapshot). */
  restore(index: number, snapshot: Uint8Array): void {
    if (snapshot.byteLength === 0) {
      this.#appliedIndex = index
      this.#data = new Map()
      this.#sessions = new Map()
      return
    }
    const image = JSON.parse(decoder.decode(snapshot)) as KvImage
    if (image.appliedIndex !== index) {
      throw new InvariantViolation('STATE_MACHINE_SAFETY', `kv machine: snapshot image at ${image.appliedIndex} restored as ${index}`)
    }
    this.#appliedIndex = image.appliedIndex
    this.#data = new Map(image.data)
    this.#sessions = new Map(image.sessions)
  }

  #execute(index: number, input: KvInput): KvOutput {
    const current = this.#data.get(input.key)
    switch (input.kind) {
      case 'get':
        return this.read(input.key)
      case 'put':
        this.#data.set(input.key, { value: input.value, version: index })
        return { kind: 'put', version: index }
      case 'delete':
        if (current === undefined) return { kind: 'delete', existed: false }
        if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) {
          return { kind: 'delete', existed: true, conflict: true }
        }
        this.#data.delete(input.key)
        return { kind: 'delete', existed: true, version: current.version }
      case 'cas':
        // Version 0 stands for "absent", as the node's ifVersion.
        if ((current?.version ?? 0) !== input.expectedVersion) return { kind: 'cas', ok: false }
        this.#data.set(input.key, { value: input.value, version: index })
        return { kind: 'cas', ok: true, version: index }
    }
  }
}
