// Shared test helpers of the network layer: bounded waiting, raw sockets and a
// hand-driven handshake, for tests that must act as a misbehaving peer.
import { connect, type Socket } from 'node:net'
import { FrameDecoder, NO_FRAME } from '../../src/net/frame-decoder.js'
import { FrameEncoder } from '../../src/net/frame-encoder.js'
import { PeerHandshake, type PeerHandshakeOptions, type PeerIdentity } from '../../src/net/peer-handshake.js'

/** Waits until `predicate` holds; fails (rejects) if it does not within `limitMs` (a bound, not a measurement). */
export async function waitFor(what: string, predicate: () => boolean, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The part of a tap test the helpers use. */
export interface TestScope {
  teardown(fn: () => unknown): void
}

export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export interface RawClient {
  socket: Socket
  /** Every byte received. */
  received: Buffer[]
  closed: Promise<void>
  isClosed(): boolean
}

export function rawConnect(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const received: Buffer[] = []
    let closedFlag = false
    const closed = new Promise<void>((done) =>
      socket.on('close', () => {
        closedFlag = true
        done()
      }),
    )
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', () => {}) // the server may reset us; 'close' follows
    socket.once('connect', () => resolve({ socket, received, closed, isClosed: () => closedFlag }))
    socket.once('error', reject)
  })
}

/**
 * Runs the handshake by hand over a raw socket (as dialer or acceptor), so a
 * test can then write arbitrary bytes as an authenticated peer.
 */
export function rawHandshake(
  socket: Socket,
  options: PeerHandshakeOptions,
  /** Bytes written in the same write as our proof (an eager peer's first messages). */
  pipelined?: Buffer,
): Promise<{ peer: PeerIdentity; decoder: FrameDecoder; encoder: FrameEncoder }> {
  return new Promise((resolve, reject) => {
    const handshake = new PeerHandshake(options)
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 })
    const encoder = new FrameEncoder({ maxFrameBytes: 1 << 20 })
    const onData = (chunk: Buffer): void => {
      decoder.push(chunk)
      for (;;) {
        const message = decoder.next()
        if (message === NO_FRAME) return
        const step = handshake.receive(message)
        if (step.send.length > 0) {
          const bytes = encoder.encodeAll(step.send)
          socket.write(step.status === 'continue' && pipelined !== undefined ? Buffer.concat([bytes, pipelined]) : bytes)
        }
        if (step.status === 'failed') {
          socket.off('data', onData)
          reject(step.error)
          return
        }
        if (step.status === 'done') {
          socket.off('data', onData)
          resolve({ peer: step.peer, decoder, encoder })
          return
        }
      }
    }
    socket.on('data', onData)
    socket.write(encoder.encode(handshake.start()))
  })
}

/** Byte arrays decode as Uint8Array and -0 as 0: compare values by content. */
export function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) }
  if (Array.isArray(value)) return value.map(normalize)
  if (typeof value === 'number' && Object.is(value, -0)) return 0
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]))
  }
  return value
}
