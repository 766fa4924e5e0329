// The shapes of the messages a Troupe node sends between its threads most
// often (key lists in the order the code builds the objects). startNode
// declares them with useMessageShapes before it starts any thread, so these
// objects cross the rings as one-byte record references instead of
// self-describing maps with their key names (src/runtime/codec.ts). A shape
// that drifts from the code costs speed, never correctness: such objects are
// then encoded self-describing. The list was taken from the queue, kv and
// WAL traffic of `npm run bench -- queue|kv` (1 and 3 nodes), most frequent
// first. The envelope's 6 shapes plus these must stay within 32, the most
// that keeps record ids to one byte.
export const troupeMessageShapes: readonly (readonly string[])[] = [
  // Queue messages: a body to send, a received message.
  ['body'],
  ['id', 'receipt', 'body', 'receiveCount', 'sentAtMs', 'priority'],
  // Raft messages and entries between shard threads and the peer router.
  ['type', 'from', 'to', 'term', 'logTerm', 'index', 'entries', 'commit', 'reject', 'rejectHint'],
  ['term', 'index', 'type', 'data'],
  ['type', 'messages'],
  ['type', 'shard', 'messages'],
  // Gateway → shard requests and the commands they carry.
  ['type', 'command'],
  ['type', 'command', 'waitMs'],
  ['type', 'queue', 'messages'],
  ['type', 'queue', 'max'],
  ['type', 'queue', 'receipts'],
  ['type', 'key', 'stale'],
  ['type', 'key', 'value'],
  // Shard answers.
  ['ok', 'value'],
  ['ok', 'error'],
  ['code', 'message', 'leaderId'],
  ['ids', 'duplicates'],
  ['messages'],
  ['acked', 'missing'],
  ['value', 'version', 'expiresAtMs'],
  ['version'],
  // Shard ↔ WAL writer, when the writer has a thread of its own.
  ['type', 'write'],
  ['shard', 'entries', 'hardState'],
  ['index', 'term', 'kind', 'payload'],
  ['term', 'vote', 'commit'],
  ['shard', 'durableIndex'],
]
