// One kernel per thread routes messages between the actors of this thread and
// those of other threads. Each ordered pair of threads has one SPSC ring; a
// thread sleeps on its single Doorbell and, when rung, drains all its inbound
// rings. Frames written during one synchronous turn are published together
// (one store and at most one notify per ring per turn).
//
// Backpressure, end to end: a frame for a full mailbox is held and its ring
// is not drained further until that mailbox has room (a few frames already
// decoded wait with it), so the ring fills, then the sender's bounded
// outbound queue, and then the sender's tell() returns false and send()
// waits. The price is head-of-line blocking between two threads while one
// mailbox is full; the bound is what keeps memory flat.
import type { ActorAddress, ActorRef, AskOptions, ExitReason, SendOptions } from './actor.js'
import type { ActorCell, Reply } from './actor-cell.js'
import { createCodec, type Codec } from './codec.js'
import { Doorbell } from './doorbell.js'
import {
  Kind,
  envelopeStructures,
  serializeError,
  serializeExit,
  type CommandFrame,
  type Frame,
  type KernelCommand,
  type PartFrame,
  type SerializedError,
  type SerializedExitReason,
} from './envelope.js'
import { RuntimeError } from './errors.js'
import { askVia } from './local-ref.js'
import { RemoteRef } from './remote-ref.js'
import { SpscRing } from './ring.js'

export const kernelDefaults = {
  /** Bytes of each ring between two threads (power of two). */
  ringCapacityBytes: 4 * 1024 * 1024,
  /** Frames queued per outbound link once its ring is full, before senders are refused. */
  outboundFramesMax: 4096,
  /** Frames drained from one ring before moving on to the next. */
  drainBatchFrames: 256,
  /**
   * The largest message between two threads, once encoded. One larger than
   * a ring's frame limit crosses in pieces of half a ring (see PartFrame);
   * one larger than this is refused with INVALID_ARGUMENT.
   */
  messageBytesMax: 64 * 1024 * 1024,
}

/** The shared buffers that connect this thread with one peer thread. */
export interface PeerLinkBuffers {
  thread: number
  /** Frames from the peer to this thread. */
  inbound: SharedArrayBuffer
  /** Frames from this thread to the peer. */
  outbound: SharedArrayBuffer
  /** The peer's doorbell, rung after publishing to `outbound`. */
  peerDoorbell: SharedArrayBuffer
}

interface InboundLink {
  /** The peer thread this ring comes from. */
  thread: number
  ring: SpscRing
  /** Frames decoded but not yet deliverable (their mailbox was full). */
  held: Frame[]
  stalled: boolean
  /** The pieces of a frame too large for the ring, received so far. */
  parts: Uint8Array[]
}

interface OutboundLink {
  /** The peer thread this ring goes to. */
  thread: number
  ring: SpscRing
  queue: Uint8Array[]
  dirty: boolean
  pumping: boolean
  spaceWaiters: (() => void)[]
}

export type CommandHandler = (command: KernelCommand, fromThread: number) => Promise<unknown>
export type ExitHandler = (thread: number, id: number, reason: SerializedExitReason) => void

interface PendingAsk {
  reply: Reply<unknown>
  thread: number
}

export class ThreadKernel {
  readonly threadId: number
  readonly doorbell: Doorbell
  private codec: Codec
  private shapes: string[][]
  private readonly cells = new Map<number, ActorCell<unknown, unknown>>()
  private readonly inbound = new Map<number, InboundLink>()
  private readonly outbound = new Map<number, OutboundLink>()
  private readonly pendingAsks = new Map<number, PendingAsk>()
  private readonly exitHandlers = new Map<number, ExitHandler>()
  private commandHandler: CommandHandler | undefined
  private nextAskId = 1
  private nextLocalId = 1
  private flushScheduled = false
  private looping = false
  private closed = false
  /** Frames dropped because their target was gone (tells have no one to tell). */
  undeliverable = 0

  /** `shapes`: message shapes beyond the envelope's (see useMessageShapes); a worker gets its host's. */
  constructor(threadId: number, doorbell: Doorbell = Doorbell.create(), shapes: readonly (readonly string[])[] = []) {
    this.threadId = threadId
    this.doorbell = doorbell
    this.shapes = shapes.map((keys) => keys.slice())
    this.codec = createCodec({ structures: [...envelopeStructures, ...this.shapes] })
  }

  /** The message shapes this thread's codec encodes as records, beyond the envelope's. */
  get messageShapes(): string[][] {
    return this.shapes.map((keys) => keys.slice())
  }

  /**
   * Adds message shapes (key lists, in the order the objects are built) to
   * the codec's table, so that objects of those shapes cross threads as a
   * record reference instead of carrying their key names. Every thread must
   * agree on the table, so it can grow only while this thread has no rings
   * yet: on the main thread, before the first worker starts (workers take
   * the main thread's table when they boot). True when every shape is in
   * the table afterwards; false when it was too late (nothing changes, and
   * those objects are still encoded correctly, only self-describing).
   */
  useMessageShapes(shapes: readonly (readonly string[])[]): boolean {
    const known = new Set([...envelopeStructures, ...this.shapes].map((keys) => JSON.stringify(keys)))
    const missing: string[][] = []
    for (const keys of shapes) {
      const signature = JSON.stringify(keys)
      if (known.has(signature)) continue
      known.add(signature)
      missing.push(keys.slice())
    }
    if (missing.length === 0) return true
    if (this.inbound.size > 0 || this.outbound.size > 0) return false
    const shapesAfter = [...this.shapes, ...missing]
    this.codec = createCodec({ structures: [...envelopeStructures, ...shapesAfter] })
    this.shapes = shapesAfter
    return true
  }

  // ------------------------------------------------------------ local actors

  /**
   * An id for an actor created on this thread by its own code. Ids handed out
   * by a ThreadHost for the actors it places here are below 2^30; these start
   * above, so the two never collide.
   */
  allocateLocalId(): number {
    return 2 ** 30 + this.nextLocalId++
  }

  /** A ref to the actor at `address`, wherever it lives. */
  refTo<M, R>(address: ActorAddress, name: string, askTimeoutMs: number): ActorRef<M, R> {
    if (address.thread === this.threadId) {
      const cell = this.cells.get(address.id)
      if (cell) return cell.ref as unknown as ActorRef<M, R>
    }
    return new RemoteRef<M, R>(this, address, name, askTimeoutMs)
  }

  register(cell: ActorCell<unknown, unknown>): void {
    this.cells.set(cell.address.id, cell)
  }

  unregister(id: number): void {
    this.cells.delete(id)
  }

  onCommand(handler: CommandHandler): void {
    this.commandHandler = handler
  }

  /** Exits of actors on `thread` are reported to `handler` (their supervisor lives here). */
  onExit(thread: number, handler: ExitHandler): void {
    this.exitHandlers.set(thread, handler)
  }

  // ------------------------------------------------------------ peers

  attachPeer(buffers: PeerLinkBuffers): void {
    this.detachPeer(buffers.thread, undefined)
    this.inbound.set(buffers.thread, { thread: buffers.thread, ring: SpscRing.attach(buffers.inbound), held: [], stalled: false, parts: [] })
    this.outbound.set(buffers.thread, {
      thread: buffers.thread,
      // The ring rings the peer's doorbell on every publish that shows frames.
      ring: SpscRing.attach(buffers.outbound, { doorbell: Doorbell.attach(buffers.peerDoorbell) }),
      queue: [],
      dirty: false,
      pumping: false,
      spaceWaiters: [],
    })
    this.startLoop()
    this.doorbell.wake()
  }

  /**
   * Forgets a peer thread (it exited): what it sent and this thread has not
   * read yet is still delivered; asks waiting on it fail with THREAD_EXITED.
   */
  detachPeer(thread: number, error: RuntimeError | undefined): void {
    const inbound = this.inbound.get(thread)
    if (inbound) {
      this.drainLink(inbound, Number.MAX_SAFE_INTEGER)
      this.inbound.delete(thread)
    }
    const outbound = this.outbound.get(thread)
    if (outbound) {
      this.outbound.delete(thread)
      for (const wake of outbound.spaceWaiters) wake()
    }
    const failure = error ?? new RuntimeError('THREAD_EXITED', `thread ${thread} is gone`)
    for (const [askId, pending] of this.pendingAsks) {
      if (pending.thread !== thread) continue
      this.pendingAsks.delete(askId)
      pending.reply.reject(failure)
    }
  }

  hasPeer(thread: number): boolean {
    return this.outbound.has(thread)
  }

  // ------------------------------------------------------------ sending

  /** Queues a tell to an actor on another thread. False: the link is full or gone. */
  tell(address: ActorAddress, message: unknown): boolean {
    return this.sendFrame(address.thread, { k: Kind.Tell, to: address.id, m: message })
  }

  async send(address: ActorAddress, message: unknown, options: SendOptions = {}): Promise<void> {
    for (;;) {
      options.signal?.throwIfAborted()
      if (!this.outbound.has(address.thread)) {
        throw new RuntimeError('THREAD_EXITED', `thread ${address.thread} is not reachable`)
      }
      if (this.tell(address, message)) return
      await this.waitForLinkSpace(address.thread)
    }
  }

  ask<R>(address: ActorAddress, message: unknown, name: string, options: AskOptions, defaultTimeoutMs: number): Promise<R> {
    return askVia<R>(
      (reply) => {
        const askId = this.nextAskId++
        const ok = this.sendFrame(address.thread, { k: Kind.Ask, to: address.id, m: message, from: this.threadId, ask: askId })
        if (!ok) return false
        this.trackAsk(askId, address.thread, reply as Reply<unknown>)
        return true
      },
      name,
      options,
      defaultTimeoutMs,
    )
  }

  /** Sends a command to the kernel of `thread` and resolves with its answer. */
  command(thread: number, cmd: KernelCommand, timeoutMs: number): Promise<unknown> {
    return askVia<unknown>(
      (reply) => {
        const askId = this.nextAskId++
        if (!this.sendFrame(thread, { k: Kind.Command, ask: askId, from: this.threadId, cmd })) return false
        this.trackAsk(askId, thread, reply)
        return true
      },
      `thread ${thread}`,
      { timeoutMs },
      timeoutMs,
    )
  }

  /** Reports an actor's exit to the thread where its supervisor lives. */
  reportExit(thread: number, id: number, reason: ExitReason): void {
    if (!this.sendFrame(thread, { k: Kind.Exit, id, reason: serializeExit(reason) })) {
      // The supervisor's thread is unreachable or flooded; it will see the
      // thread or the actor as gone through its own checks.
      this.undeliverable++
    }
  }

  private trackAsk(askId: number, thread: number, reply: Reply<unknown>): void {
    const resolve = reply.resolve
    const reject = reply.reject
    // The ask may time out before the answer: forget it either way.
    reply.resolve = (value) => {
      this.pendingAsks.delete(askId)
      resolve(value)
    }
    reply.reject = (error) => {
      this.pendingAsks.delete(askId)
      reject(error)
    }
    this.pendingAsks.set(askId, { reply, thread })
  }

  private sendFrame(thread: number, frame: Frame): boolean {
    if (this.closed) return false
    const link = this.outbound.get(thread)
    if (!link) return false
    const bytes = this.codec.encode(frame)
    if (bytes.length > link.ring.maxFrameBytes) return this.sendInParts(link, bytes)
    if (link.queue.length === 0 && link.ring.tryWrite(bytes)) {
      this.markDirty(link)
      return true
    }
    if (link.queue.length >= kernelDefaults.outboundFramesMax) return false
    link.queue.push(bytes)
    this.pump(link)
    return true
  }

  /** A frame larger than the ring takes: its pieces go one after another (nothing else of this thread's comes between). */
  private sendInParts(link: OutboundLink, bytes: Uint8Array): boolean {
    if (bytes.length > kernelDefaults.messageBytesMax) {
      throw new RuntimeError(
        'INVALID_ARGUMENT',
        `message of ${bytes.length} bytes exceeds the ${kernelDefaults.messageBytesMax}-byte limit between threads`,
      )
    }
    const partBytes = Math.floor(link.ring.maxFrameBytes / 2)
    if (link.queue.length + Math.ceil(bytes.length / partBytes) > kernelDefaults.outboundFramesMax) return false
    for (let at = 0; at < bytes.length; at += partBytes) {
      const part: PartFrame = { k: Kind.Part, last: at + partBytes >= bytes.length, b: bytes.subarray(at, at + partBytes) }
      const encoded = this.codec.encode(part)
      if (link.queue.length === 0 && link.ring.tryWrite(encoded)) this.markDirty(link)
      else link.queue.push(encoded)
    }
    if (link.queue.length > 0) this.pump(link)
    return true
  }

  private markDirty(link: OutboundLink): void {
    link.dirty = true
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(this.flush)
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    for (const link of this.outbound.values()) {
      if (!link.dirty) continue
      link.dirty = false
      link.ring.publish()
    }
  }

  /** Moves queued frames into the ring as the peer frees space. */
  private pump(link: OutboundLink): void {
    if (link.pumping) return
    link.pumping = true
    void (async () => {
      try {
        while (link.queue.length > 0 && this.outbound.get(link.thread) === link) {
          const head = link.queue[0]!
          if (!link.ring.tryWrite(head)) {
            await link.ring.waitForSpace(head.length, { timeoutMs: 1_000 }).catch(() => undefined)
            continue
          }
          link.queue.shift()
          this.markDirty(link)
          if (link.spaceWaiters.length > 0) link.spaceWaiters.shift()!()
        }
      } finally {
        link.pumping = false
        for (const wake of link.spaceWaiters.splice(0)) wake()
      }
    })()
  }

  private waitForLinkSpace(thread: number): Promise<void> {
    const link = this.outbound.get(thread)
    if (!link || link.queue.length < kernelDefaults.outboundFramesMax) return Promise.resolve()
    return new Promise((resolve) => link.spaceWaiters.push(resolve))
  }

  // ------------------------------------------------------------ receiving

  private startLoop(): void {
    if (this.looping || this.closed) return
    this.looping = true
    void this.loop()
  }

  private async loop(): Promise<void> {
    try {
      while (!this.closed) {
        let drained = 0
        for (const link of this.inbound.values()) drained += this.drainLink(link, kernelDefaults.drainBatchFrames)
        if (drained > 0) {
          // Let the actors that just got mail run before draining more.
          await new Promise<void>((resolve) => setImmediate(resolve))
          continue
        }
        // Workers stay alive while their kernel waits; the main thread's
        // wait must not hold the process open (its Worker objects do that).
        // The timeout re-checks the rings now and then, so that a missed
        // notify (see WAIT_SLICE_MS in ring.ts) delays delivery instead of
        // stopping it.
        await this.doorbell.sleep(() => this.hasInboundWork(), { keepAlive: this.threadId !== 0, timeoutMs: 100 })
      }
    } finally {
      this.looping = false
    }
  }

  private hasInboundWork(): boolean {
    for (const link of this.inbound.values()) if (!link.stalled && link.ring.hasFrames()) return true
    return false
  }

  private drainLink(link: InboundLink, maxFrames: number): number {
    if (link.stalled) return 0
    return link.ring.drain((payload) => {
      let frame = this.codec.decode(payload) as Frame | PartFrame
      if (frame.k === Kind.Part) {
        link.parts.push(frame.b)
        if (!frame.last) return
        frame = this.codec.decodeOwned(Buffer.concat(link.parts)) as Frame
        link.parts = []
      }
      if (link.stalled) link.held.push(frame)
      else if (!this.deliver(link, frame)) this.stall(link, frame)
    }, maxFrames)
  }

  /** Holds `frame` (and what follows it) until its target's mailbox has room. */
  private stall(link: InboundLink, frame: Frame): void {
    link.stalled = true
    link.held.unshift(frame)
    const target = frame.k === Kind.Tell || frame.k === Kind.Ask ? this.cells.get(frame.to) : undefined
    if (target) void target.waitForSpace().then(() => this.resume(link))
    else queueMicrotask(() => this.resume(link))
  }

  /** Delivers held frames in order as room appears; then the ring is drained again. */
  private resume(link: InboundLink): void {
    link.stalled = false
    while (link.held.length > 0) {
      const frame = link.held.shift()!
      if (!this.deliver(link, frame)) {
        this.stall(link, frame)
        return
      }
    }
    this.doorbell.wake()
  }

  /** Hands one frame to its target. False only when the target's mailbox is full. */
  private deliver(link: InboundLink, frame: Frame): boolean {
    switch (frame.k) {
      case Kind.Tell:
      case Kind.Ask: {
        const cell = this.cells.get(frame.to)
        if (!cell || cell.isStopped) {
          this.undeliverable++
          if (frame.k === Kind.Ask) this.answer(frame.from, frame.ask, false, stoppedError(frame.to))
          return true
        }
        if (cell.mailboxFull) return false
        const envelope =
          frame.k === Kind.Tell ? { message: frame.m } : { message: frame.m, reply: this.remoteReply(frame.from, frame.ask) }
        if (!cell.enqueue(envelope)) this.undeliverable++ // refused although not full: the cell just stopped
        return true
      }
      case Kind.Reply: {
        const pending = this.pendingAsks.get(frame.ask)
        if (!pending) return true // the asker gave up already
        if (frame.ok) pending.reply.resolve(frame.v)
        else pending.reply.reject(deserializeError(frame.v as SerializedError))
        return true
      }
      case Kind.Command:
        void this.runCommand(frame)
        return true
      case Kind.Exit: {
        this.exitHandlers.get(link.thread)?.(link.thread, frame.id, frame.reason)
        return true
      }
    }
  }

  private remoteReply(thread: number, askId: number): Reply<unknown> {
    return {
      resolve: (value) => this.answer(thread, askId, true, value),
      reject: (error) => this.answer(thread, askId, false, serializeError(error)),
    }
  }

  private answer(thread: number, askId: number, ok: boolean, value: unknown): void {
    let sent: boolean
    try {
      sent = this.sendFrame(thread, { k: Kind.Reply, ask: askId, ok, v: value })
    } catch (error) {
      // An answer too large to cross: the asker learns why, this thread goes on.
      sent = this.sendFrame(thread, { k: Kind.Reply, ask: askId, ok: false, v: serializeError(error) })
    }
    if (!sent) this.undeliverable++
  }

  private async runCommand(frame: CommandFrame): Promise<void> {
    try {
      if (!this.commandHandler) throw new RuntimeError('INVALID_ARGUMENT', `thread ${this.threadId} takes no commands`)
      const result = await this.commandHandler(frame.cmd, frame.from)
      this.answer(frame.from, frame.ask, true, result ?? null)
    } catch (error) {
      this.answer(frame.from, frame.ask, false, serializeError(error))
    }
  }

  /** Stops the loop; pending asks to other threads fail. */
  close(): void {
    if (this.closed) return
    for (const thread of [...this.outbound.keys()]) this.detachPeer(thread, new RuntimeError('SYSTEM_STOPPED', 'the thread kernel is closed'))
    this.closed = true
    this.doorbell.wake()
  }
}

function stoppedError(id: number): SerializedError {
  return { code: 'ACTOR_STOPPED', message: `actor ${id} is stopped or unknown` }
}

export function deserializeError(error: SerializedError): RuntimeError {
  const code = (error?.code ?? 'ACTOR_FAILED') as RuntimeError['code']
  return new RuntimeError(code, error?.message ?? 'remote failure')
}

export function deserializeExit(reason: SerializedExitReason): ExitReason {
  return reason.kind === 'error' ? { kind: 'error', error: deserializeError(reason.error) } : reason
}
