// A tiny raw client of the client protocol for the server's tests: frames over
// node:net with the project's FrameEncoder/FrameDecoder, answers matched by
// id. It checks nothing itself, so tests can send anything.
import { connect, type Socket } from 'node:net'
import { FrameDecoder, NO_FRAME } from '../../src/net/frame-decoder.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'

export interface WireError {
  code: string
  message: string
  leader?: { id: number; tcp?: string }
  missing?: string[]
  retryAfterMs?: number
}

export interface WireAnswer {
  id: number | null
  ok: boolean
  r?: unknown
  error?: WireError
}

const MAX_FRAME_BYTES = 64 * 1024 * 1024

export class WireClient {
  readonly socket: Socket
  /** Frames that answered no pending request: the welcome, connection-level errors. */
  readonly unsolicited: unknown[] = []
  readonly closed: Promise<void>
  #isClosed = false
  readonly #decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES })
  readonly #encoder = new FrameEncoder({ maxFrameBytes: MAX_FRAME_BYTES })
  readonly #pending = new Map<number, (answer: WireAnswer) => void>()
  readonly #waiters: Array<() => void> = []
  #nextId = 1

  private constructor(socket: Socket) {
    this.socket = socket
    this.closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true
        for (const waiter of this.#waiters.splice(0)) waiter()
        resolve()
      }),
    )
    socket.on('error', () => undefined) // a reset shows as 'close'
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk)
      for (let frame = this.#decoder.next(); frame !== NO_FRAME; frame = this.#decoder.next()) {
        const answer = frame as WireAnswer
        const resolve = typeof answer.id === 'number' ? this.#pending.get(answer.id) : undefined
        if (resolve !== undefined) {
          this.#pending.delete(answer.id as number)
          resolve(answer)
        } else {
          this.unsolicited.push(frame)
          for (const waiter of this.#waiters.splice(0)) waiter()
        }
      }
    })
  }

  static open(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port })
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new WireClient(socket))
      })
      socket.once('error', reject)
    })
  }

  /** Connects and says hello; resolves with the welcome (or the refusal). */
  static async connect(port: number, hello: Record<string, unknown> = {}): Promise<{ client: WireClient; welcome: unknown }> {
    const client = await WireClient.open(port)
    client.write({ op: 'hello', v: 1, client: 'test', ...hello })
    return { client, welcome: await client.nextUnsolicited() }
  }

  get isClosed(): boolean {
    return this.#isClosed
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  write(message: unknown): void {
    this.socket.write(this.#encoder.encode(message))
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  /** Sends one request with a fresh id; resolves with its answer (never rejects: a closed connection leaves it pending). */
  request(op: string, args: Record<string, unknown> = {}): Promise<WireAnswer> {
    const id = this.#nextId++
    const answer = new Promise<WireAnswer>((resolve) => this.#pending.set(id, resolve))
    this.write({ id, op, ...args })
    return answer
  }

  /** Many requests in one socket write (pipelined); answers in request order. */
  pipeline(requests: Array<{ op: string; args?: Record<string, unknown> }>): Promise<WireAnswer[]> {
    const answers: Array<Promise<WireAnswer>> = []
    const frames: unknown[] = []
    for (const { op, args } of requests) {
      const id = this.#nextId++
      answers.push(new Promise<WireAnswer>((resolve) => this.#pending.set(id, resolve)))
      frames.push({ id, op, ...args })
    }
    this.socket.write(this.#encoder.encodeAll(frames))
    return Promise.all(answers)
  }

  /** The next frame that answers no request (already received or to come); undefined once the connection closed. */
  async nextUnsolicited(): Promise<unknown> {
    for (let turns = 0; turns < 10_000; turns++) {
      if (this.unsolicited.length > 0) return this.unsolicited.shift()
      if (this.#isClosed) return undefined
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
    }
    throw new Error('nextUnsolicited: too many wake-ups')
  }

  close(): void {
    this.socket.destroy()
  }
}

/** `r` of a successful answer; throws with the error otherwise. */
export function ok<T = Record<string, unknown>>(answer: WireAnswer): T {
  if (!answer.ok) throw new Error(`expected success, got ${JSON.stringify(answer.error)}`)
  return answer.r as T
}
