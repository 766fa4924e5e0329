// An in-memory network of RawNodes for the paper and scenario tests: it
// follows the Ready contract (persist, send, apply, advance), delivers
// messages in FIFO order, and can drop, cut and isolate. Deterministic: the
// only randomness is each node's seeded Rng.
import { decodeConfChange, MemoryStorage, RawNode, createRng } from '../../src/raft/index.js'
import type { ConfState, Message, NodeId, RaftConfig, ReadState, Snapshot } from '../../src/raft/index.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

export function text(data: Uint8Array): string {
  return decoder.decode(data)
}

export interface TestNode {
  id: NodeId
  node: RawNode
  storage: MemoryStorage
  /** The state machine: the data of every applied normal entry, in order. */
  applied: string[]
  appliedIndex: number
  readStates: ReadState[]
  restoredSnapshots: Snapshot[]
  confState: ConfState
}

export type NodeOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>>

/** A bound on every delivery loop so a livelock fails the test instead of hanging it. */
const MAX_STABILIZE_ROUNDS = 10_000

export class Network {
  readonly nodes = new Map<NodeId, TestNode>()
  /** Messages sent and not yet delivered, in send order. */
  inFlight: Message[] = []
  /** Every message ever sent (after filtering), for assertions on traffic. */
  sentLog: Message[] = []
  private readonly cut = new Set<string>()
  private readonly dropTypes = new Set<string>()
  private readonly options: NodeOptions

  constructor(ids: NodeId[], options: NodeOptions = {}, learners: NodeId[] = []) {
    this.options = options
    for (const id of ids) this.addNode(id, MemoryStorage.bootstrap({ voters: ids, learners }))
    for (const id of learners) this.addNode(id, MemoryStorage.bootstrap({ voters: ids, learners }))
  }

  /** Adds a node with the given storage (an empty MemoryStorage for a node that joins later). */
  addNode(id: NodeId, storage: MemoryStorage = new MemoryStorage(), options: NodeOptions = {}): TestNode {
    const node = new RawNode({ electionTicks: 10, heartbeatTicks: 1, ...this.options, ...options, id, storage, rng: createRng(id * 7919) })
    const tn: TestNode = {
      id,
      node,
      storage,
      applied: [],
      appliedIndex: storage.firstIndex() - 1,
      readStates: [],
      restoredSnapshots: [],
      confState: storage.initialState().confState,
    }
    this.restoreMachine(tn, storage.snapshot())
    this.nodes.set(id, tn)
    return tn
  }

  get(id: NodeId): TestNode {
    const tn = this.nodes.get(id)
    if (tn === undefined) throw new Error(`no node ${id}`)
    return tn
  }

  raft(id: NodeId) {
    return this.get(id).node.raft
  }

  /** Simulates a crash and restart: volatile state is lost, storage is kept. */
  restart(id: NodeId): TestNode {
    const old = this.get(id)
    this.inFlight = this.inFlight.filter((m) => m.to !== id && m.from !== id)
    const tn = this.addNode(id, old.storage)
    // The machine is rebuilt from the snapshot; committed entries after it are re-applied.
    return tn
  }

  remove(id: NodeId): void {
    this.nodes.delete(id)
    this.inFlight = this.inFlight.filter((m) => m.to !== id)
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cutLink(id, other)
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`)
    this.cut.add(`${b}-${a}`)
  }

  /** Splits the nodes into groups that cannot talk to each other. */
  partition(...groups: NodeId[][]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]!) for (const b of groups[j]!) this.cutLink(a, b)
      }
    }
  }

  heal(): void {
    this.cut.clear()
  }

  dropType(type: Message['type']): void {
    this.dropTypes.add(type)
  }

  allowType(type: Message['type']): void {
    this.dropTypes.delete(type)
  }

  private blocked(m: Message): boolean {
    return this.cut.has(`${m.from}-${m.to}`) || this.dropTypes.has(m.type) || !this.nodes.has(m.to)
  }

  /** Handles one Ready of node `id` following the contract; false when it had none. */
  processReady(id: NodeId): boolean {
    const tn = this.get(id)
    if (!tn.node.hasReady()) return false
    const rd = tn.node.ready()
    // 1. persist
    if (rd.snapshot !== undefined) tn.storage.applySnapshot(rd.snapshot)
    tn.storage.append(rd.entries)
    if (rd.hardState !== undefined) tn.storage.setHardState(rd.hardState)
    // 2. send
    for (const m of rd.messages) {
      if (this.blocked(m)) continue
      this.inFlight.push(m)
      this.sentLog.push(m)
    }
    // 3. apply
    if (rd.snapshot !== undefined) {
      tn.restoredSnapshots.push(rd.snapshot)
      this.restoreMachine(tn, rd.snapshot)
    }
    for (const entry of rd.committedEntries) {
      if (entry.index !== tn.appliedIndex + 1) throw new Error(`node ${id} applies ${entry.index} after ${tn.appliedIndex}`)
      tn.appliedIndex = entry.index
      if (entry.type === 'conf') {
        tn.confState = tn.node.applyConfChange(decodeConfChange(entry.data))
        tn.storage.setConfState(tn.confState)
      } else if (entry.data.byteLength > 0) {
        tn.applied.push(text(entry.data))
      }
    }
    for (const rs of rd.readStates) tn.readStates.push(rs)
    // 4. advance
    tn.node.advance()
    return true
  }

  private restoreMachine(tn: TestNode, snapshot: Snapshot): void {
    tn.applied = snapshot.data.byteLength === 0 ? [] : (JSON.parse(text(snapshot.data)) as string[])
    tn.appliedIndex = snapshot.metadata.index
    tn.confState = snapshot.metadata.confState
  }

  /** Snapshots node `id`'s machine at its applied index and compacts its log up to there. */
  compact(id: NodeId): Snapshot {
    const tn = this.get(id)
    const snap = tn.storage.createSnapshot(tn.appliedIndex, bytes(JSON.stringify(tn.applied)), tn.confState)
    tn.storage.compact(tn.appliedIndex)
    return snap
  }

  /** Delivers the messages in flight now (not those they cause); returns how many. */
  deliverOnce(filter: (m: Message) => boolean = () => true): number {
    const batch = this.inFlight
    this.inFlight = []
    let delivered = 0
    for (const m of batch) {
      if (!filter(m)) {
        this.inFlight.push(m)
        continue
      }
      if (this.blocked(m)) continue
      this.get(m.to).node.step(m)
      delivered++
    }
    return delivered
  }

  /** Processes Readies and delivers messages until nothing moves. */
  stabilize(): void {
    for (let round = 0; round < MAX_STABILIZE_ROUNDS; round++) {
      let moved = false
      for (const id of [...this.nodes.keys()]) while (this.processReady(id)) moved = true
      if (this.deliverOnce() > 0) moved = true
      if (!moved && this.inFlight.length === 0) return
    }
    throw new Error(`network did not stabilize within ${MAX_STABILIZE_ROUNDS} rounds`)
  }

  tick(id: NodeId, count = 1): void {
    for (let i = 0; i < count; i++) this.get(id).node.tick()
  }

  /** Ticks every node once and stabilizes, `count` times. */
  tickAll(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const tn of this.nodes.values()) tn.node.tick()
      this.stabilize()
    }
  }

  /** Campaigns on `id` and stabilizes. */
  elect(id: NodeId): void {
    this.get(id).node.campaign()
    this.stabilize()
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((tn) => tn.node.raft.role === 'leader').map((tn) => tn.id)
  }

  /** Proposes on `id` (must lead) and stabilizes; returns the last index. */
  propose(id: NodeId, ...datas: string[]): number {
    const result = this.get(id).node.proposeBatch(datas.map(bytes))
    if (!result.ok) throw new Error(`proposal on ${id} rejected: ${result.code}`)
    this.stabilize()
    return result.lastIndex
  }

  /** Messages in flight of one type, for assertions. */
  pending(type: Message['type']): Message[] {
    return this.inFlight.filter((m) => m.type === type)
  }
}
