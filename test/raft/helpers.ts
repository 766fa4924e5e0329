// Helpers to drive a bare Raft state machine in the manner of etcd's raft_test.go.
import { MemoryStorage, Raft, createRng } from '../../src/raft/index.js'
import type { Entry, Message, NodeId, RaftConfig } from '../../src/raft/index.js'

export type RaftOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>

const EMPTY = new Uint8Array(0)

/** A storage whose log starts at index 1 (membership set, no snapshot), holding `entries`. */
export function storageWith(voters: NodeId[], entries: Entry[] = [], learners: NodeId[] = []): MemoryStorage {
  const storage = new MemoryStorage()
  storage.setConfState({ voters, learners })
  storage.append(entries)
  return storage
}

/** Entries with the given terms at indexes 1, 2, ... */
export function entriesWithTerms(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: 'normal' as const, data: EMPTY }))
}

export function entry(index: number, term: number, data: Uint8Array = EMPTY): Entry {
  return { term, index, type: 'normal', data }
}

export function newRaft(id: NodeId, voters: NodeId[], options: RaftOptions = {}, storage = storageWith(voters)): Raft {
  return new Raft({ electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false, ...options, id, storage, rng: createRng(id) })
}

/** Drains what the node would put in the next Ready's messages. */
export function readMessages(r: Raft): Message[] {
  r.flush()
  const msgs = r.msgs
  r.msgs = []
  return msgs
}

export function msg(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return { term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields }
}

/** Persists the unstable entries as a Ready/advance would (for bare Raft tests). */
export function persist(r: Raft, storage: MemoryStorage): void {
  const entries = r.log.unstableEntries()
  storage.append(entries)
  const last = entries[entries.length - 1]
  if (last !== undefined) r.log.stableTo(last.index, last.term)
}

/** Ticks until the node's election fires (bounded by twice the election timeout). */
export function tickUntilElection(r: Raft): void {
  for (let i = 0; i < 2 * r.cfg.electionTicks && r.role === 'follower'; i++) r.tick()
}

export function sortByTo(msgs: Message[]): Message[] {
  return [...msgs].sort((a, b) => a.to - b.to)
}
