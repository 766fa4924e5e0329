// An ActorRef to an actor on another thread: messages go through the thread
// kernel's rings. Messages must survive msgpack (plain data, Uint8Array).
import type { ActorAddress, ActorRef, AskOptions, SendOptions } from './actor.js'
import type { ThreadKernel } from './thread-kernel.js'

export class RemoteRef<M, R> implements ActorRef<M, R> {
  constructor(
    private readonly kernel: ThreadKernel,
    readonly address: ActorAddress,
    readonly name: string,
    private readonly askTimeoutMs: number,
  ) {}

  tell(message: M): boolean {
    return this.kernel.tell(this.address, message)
  }

  send(message: M, options?: SendOptions): Promise<void> {
    return this.kernel.send(this.address, message, options)
  }

  ask(message: M, options: AskOptions = {}): Promise<R> {
    return this.kernel.ask<R>(this.address, message, this.name, options, this.askTimeoutMs)
  }
}
