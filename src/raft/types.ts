// The plain data that crosses the Raft core's boundary: log entries, persisted
// state, snapshots, messages and the Ready batch. Everything here is a plain
// object so the node can encode it with msgpack and the simulator can copy it.

/** A node id: a positive integer. `NONE` (0) means "no node". */
export type NodeId = number
export const NONE: NodeId = 0

/** `conf` entries carry an encoded ConfChange (see conf-change.ts). */
export type EntryType = 'normal' | 'conf'

export interface Entry {
  term: number
  index: number
  type: EntryType
  data: Uint8Array
}

/** What must be on stable storage before any message of the same Ready is sent. */
export interface HardState {
  term: number
  /** The node voted for in `term`, or NONE. */
  vote: NodeId
  commit: number
}

/** The membership of a group. A node is in at most one of the two lists. */
export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
}

export interface SnapshotMetadata {
  /** Index and term of the last entry the snapshot covers. */
  index: number
  term: number
  /** The membership as of `index`. */
  confState: ConfState
}

export interface Snapshot {
  metadata: SnapshotMetadata
  /** The application's state machine image; opaque to Raft. */
  data: Uint8Array
}

/** One piece of a snapshot sent by the leader (InstallSnapshot in chunks). */
export interface SnapshotChunk {
  metadata: SnapshotMetadata
  /** Where `data` starts in the whole snapshot image. */
  offsetBytes: number
  /** Size of the whole snapshot image. */
  totalBytes: number
  data: Uint8Array
}

export type MessageType =
  | 'app' // AppendEntries (leader → follower)
  | 'appResp'
  | 'vote' // RequestVote
  | 'voteResp'
  | 'preVote' // a vote that does not disturb terms (Raft thesis §9.6)
  | 'preVoteResp'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'snap' // one InstallSnapshot chunk
  | 'snapResp' // acknowledges a chunk (the final one is answered with appResp)
  | 'timeoutNow' // leadership transfer: campaign now
  | 'readIndex' // follower → leader: a linearizable read request
  | 'readIndexResp'

/**
 * A Raft message. The meaning of the numeric fields depends on `type`, as in
 * etcd's raftpb.Message:
 * - app: `index`/`logTerm` = the entry preceding `entries`; `commit` = leader commit.
 * - appResp: `index` = last index now matching (or, when `reject`, the rejected
 *   `index`), `rejectHint`/`logTerm` = where the follower suggests probing.
 * - vote/preVote: `index`/`logTerm` = the candidate's last entry;
 *   `context` = TRANSFER_CONTEXT when the campaign follows a leadership transfer.
 * - heartbeat/heartbeatResp: `index` = the leader's heartbeat round (echoed
 *   back; confirms ReadIndex requests and the leader lease), `commit` = commit.
 * - snap: `snapshot` = one chunk. snapResp: `index` = snapshot index,
 *   `rejectHint` = bytes of that snapshot received so far, `reject` = the
 *   follower has no transfer at that offset and the leader must restart it.
 * - readIndex/readIndexResp: `context` = the request context, `index` = read index.
 */
export interface Message {
  type: MessageType
  from: NodeId
  to: NodeId
  term: number
  logTerm: number
  index: number
  entries: Entry[]
  commit: number
  reject: boolean
  rejectHint: number
  context?: Uint8Array
  snapshot?: SnapshotChunk
}

/** A completed ReadIndex: once `applied >= index` the read may be served. */
export interface ReadState {
  index: number
  requestCtx: Uint8Array
}

export type RaftRole = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/** Volatile state, useful to the application (who leads) but never persisted. */
export interface SoftState {
  lead: NodeId
  role: RaftRole
}

/**
 * What the application must do next, returned by `RawNode.ready()`.
 *
 * The caller MUST handle a Ready in this order:
 * 1. Persist `snapshot` (if set), then `entries` and `hardState` (if set) to
 *    stable storage (fsync when `mustSync`). With MemoryStorage:
 *    `applySnapshot(snapshot)`, `append(entries)`, `setHardState(hardState)`.
 * 2. Only then send `messages` (a follower's vote or append acknowledgement is
 *    a promise that the state is durable). Exception: when `sendFirst` is
 *    true, the messages may go out before or while step 1 runs.
 * 3. Restore `snapshot` into the state machine (if set), then apply
 *    `committedEntries` in order; call `applyConfChange` for `conf` entries.
 *    Serve `readStates` once the applied index reaches their `index`.
 * 4. Call `advance()`. Do not call `ready()` again before that.
 */
export interface Ready {
  softState?: SoftState
  hardState?: HardState
  /** Entries to append to stable storage (may overwrite a suffix). */
  entries: Entry[]
  snapshot?: Snapshot
  committedEntries: Entry[]
  messages: Message[]
  readStates: ReadState[]
  /** False when only the commit index changed: losing it is harmless. */
  mustSync: boolean
  /**
   * The messages may be sent before this Ready is persisted (Raft thesis
   * §10.2.1): true for a leader's Ready that carries no snapshot and does not
   * change the term or the vote. Its entries commit only once followers have
   * acknowledged them, and they are applied in a later Ready, so nothing that
   * depends on them being durable here leaves first.
   */
  sendFirst: boolean
}

/** A vote request carrying this context ignores the leader lease (leadership transfer). */
export const TRANSFER_CONTEXT: Uint8Array = new Uint8Array([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72])
