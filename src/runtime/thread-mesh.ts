// The main thread's map of worker threads and the rings between every ordered
// pair of them. Rings are created here and handed to both ends; a thread that
// restarts gets fresh rings (and a fresh doorbell) so nothing it left half
// written can confuse its successor.
import type { Worker } from 'node:worker_threads'
import { currentKernel } from './current-kernel.js'
import { Doorbell } from './doorbell.js'
import { RuntimeError } from './errors.js'
import { SpscRing } from './ring.js'
import { kernelDefaults, type PeerLinkBuffers } from './thread-kernel.js'

interface MeshMember {
  slot: number
  doorbell: Doorbell
  worker: Worker
}

export type MeshControl = { type: 'attach'; peer: PeerLinkBuffers } | { type: 'detach'; thread: number }

const members = new Map<number, MeshMember>()
let nextSlot = 1

/** A stable thread number for a new thread host (kept across its restarts). */
export function allocateSlot(): number {
  return nextSlot++
}

/**
 * Creates the rings between `slot` and every thread already in the mesh,
 * attaches the main thread's side, tells the other workers, and returns what
 * the new worker needs to attach its side.
 */
export function joinMesh(slot: number, doorbell: Doorbell, worker: Worker, ringCapacityBytes = kernelDefaults.ringCapacityBytes): PeerLinkBuffers[] {
  if (members.has(slot)) throw new RuntimeError('INVALID_ARGUMENT', `thread ${slot} is already in the mesh`)
  const kernel = currentKernel()
  const forNewWorker: PeerLinkBuffers[] = []
  const link = (otherSlot: number, otherDoorbell: Doorbell): { toNew: SpscRing; fromNew: SpscRing; otherDoorbell: Doorbell } => {
    const toNew = SpscRing.create(ringCapacityBytes)
    const fromNew = SpscRing.create(ringCapacityBytes)
    forNewWorker.push({ thread: otherSlot, inbound: toNew.buffer, outbound: fromNew.buffer, peerDoorbell: otherDoorbell.buffer })
    return { toNew, fromNew, otherDoorbell }
  }
  const main = link(0, kernel.doorbell)
  kernel.attachPeer({ thread: slot, inbound: main.fromNew.buffer, outbound: main.toNew.buffer, peerDoorbell: doorbell.buffer })
  for (const other of members.values()) {
    const rings = link(other.slot, other.doorbell)
    const control: MeshControl = {
      type: 'attach',
      peer: { thread: slot, inbound: rings.fromNew.buffer, outbound: rings.toNew.buffer, peerDoorbell: doorbell.buffer },
    }
    other.worker.postMessage(control)
  }
  members.set(slot, { slot, doorbell, worker })
  return forNewWorker
}

/** Removes a thread (it exited or is stopping): every other thread forgets its rings. */
export function leaveMesh(slot: number, error?: RuntimeError): void {
  if (!members.delete(slot)) return
  currentKernel().detachPeer(slot, error)
  const control: MeshControl = { type: 'detach', thread: slot }
  for (const other of members.values()) other.worker.postMessage(control)
}
