// troupe/runtime: the actor runtime, for applications that embed Troupe or
// define their own supervised actors.
export { Deferred } from './actor.js'
export type {
  ActorAddress,
  ActorContext,
  ActorFactory,
  ActorRef,
  AskOptions,
  Behavior,
  ExitReason,
  SendOptions,
} from './actor.js'
export { RuntimeError, isRuntimeError, type RuntimeErrorCode } from './errors.js'
export { mailboxDefaults, type MailboxOptions, type OverflowPolicy } from './mailbox.js'
export type { ActorMetrics } from './metrics.js'
export {
  backoffDefaults,
  supervisorDefaults,
  Supervisor,
  type BackoffOptions,
  type ChildSpecBase,
  type RestartType,
  type SupervisorEvent,
  type SupervisorOptions,
  type SupervisorStrategy,
} from './supervisor.js'
export {
  ActorSystem,
  systemDefaults,
  type ActorChildSpec,
  type ActorSystemOptions,
  type ChildSpec,
  type SpawnOptions,
  type SupervisorChildSpec,
  type ThreadChildSpec,
} from './system.js'
export { ThreadHost, threadHostDefaults, type RemoteChildSpec, type ThreadHostOptions } from './thread-host.js'
export type { RemoteActorDefinition } from './envelope.js'
export { currentKernel } from './current-kernel.js'
export { SpscRing } from './ring.js'
export { Doorbell } from './doorbell.js'
export { createCodec, type Codec, type CodecOptions } from './codec.js'

import type { ActorAddress, ActorRef } from './actor.js'
import { currentKernel } from './current-kernel.js'
import { systemDefaults } from './system.js'

/**
 * Declares the shapes (key lists in construction order) of the messages an
 * application sends between threads most often, so that they cross as
 * one-byte record references instead of self-describing maps: cheaper to
 * encode and several times cheaper to decode. Call it on the main thread
 * before starting any thread host; afterwards it changes nothing and returns
 * false (messages stay correct, only slower). Idempotent.
 */
export function useMessageShapes(shapes: readonly (readonly string[])[]): boolean {
  return currentKernel().useMessageShapes(shapes)
}

/**
 * A ref to the actor at `address` from any thread: pass `ref.address` inside a
 * message (refs themselves are not serialisable) and rebuild the ref with this.
 */
export function refTo<M, R = void>(address: ActorAddress, name = `actor@${address.thread}/${address.id}`, askTimeoutMs = systemDefaults.askTimeoutMs): ActorRef<M, R> {
  return currentKernel().refTo<M, R>(address, name, askTimeoutMs)
}
