import t from 'tap'
import {
  MESSAGE_BODY_BYTES_MAX,
  MachineInvariantError,
  ShardMachine,
  checkBatchSize,
  checkBody,
  checkDedupId,
  checkKey,
  checkPriority,
  checkQueueName,
  checkReceiveMax,
  checkValue,
  checkWaitMs,
  formatReceipt,
  parseMessageId,
  parseReceipt,
  validateShardCommand,
} from '../../src/machines/index.js'
import { Harness, bytes } from './helpers/harness.js'
import { contentBytes } from './helpers/recount.js'

t.test('the shared field checks accept the contract limits and refuse what lies beyond', async (t) => {
  t.equal(checkQueueName('a-Z_0'), undefined)
  t.equal(checkQueueName('x'.repeat(128)), undefined)
  t.equal(checkQueueName('x'.repeat(129))?.code, 'INVALID_ARGUMENT')
  t.equal(checkQueueName('a/b')?.code, 'INVALID_ARGUMENT')
  t.equal(checkQueueName('')?.code, 'INVALID_ARGUMENT')
  t.equal(checkQueueName(7)?.code, 'INVALID_ARGUMENT')
  t.equal(checkKey('k'), undefined)
  t.equal(checkBody(new Uint8Array(MESSAGE_BODY_BYTES_MAX)), undefined)
  t.equal(checkBody(new Uint8Array(MESSAGE_BODY_BYTES_MAX + 1))?.code, 'PAYLOAD_TOO_LARGE')
  t.equal(checkBody('text')?.code, 'INVALID_ARGUMENT')
  t.equal(checkValue(new Uint8Array(1024 * 1024 + 1))?.code, 'PAYLOAD_TOO_LARGE')
  t.equal(checkBatchSize(1), undefined)
  t.equal(checkBatchSize(1000), undefined)
  t.equal(checkBatchSize(0)?.code, 'INVALID_ARGUMENT')
  t.equal(checkBatchSize(1001)?.code, 'INVALID_ARGUMENT')
  t.equal(checkPriority(0), undefined)
  t.equal(checkPriority(9), undefined)
  t.equal(checkPriority(10)?.code, 'INVALID_ARGUMENT')
  t.equal(checkPriority(1.5)?.code, 'INVALID_ARGUMENT')
  t.equal(checkWaitMs(20_000), undefined)
  t.equal(checkWaitMs(20_001)?.code, 'INVALID_ARGUMENT')
  t.equal(checkReceiveMax(100), undefined)
  t.equal(checkReceiveMax(101)?.code, 'INVALID_ARGUMENT')
  t.equal(checkReceiveMax(0)?.code, 'INVALID_ARGUMENT')
  t.equal(checkDedupId('x'.repeat(129))?.code, 'INVALID_ARGUMENT')
})

t.test('validateShardCommand narrows a decoded entry', async (t) => {
  const good = validateShardCommand({ type: 'queue.receive', queue: 'q', max: 3 })
  t.ok(good.ok)
  const bad = validateShardCommand({ type: 'queue.receive', queue: 'q', max: 0 })
  t.notOk(bad.ok)
  t.notOk(validateShardCommand(null).ok)
  t.notOk(validateShardCommand({ type: 'queue.explode', queue: 'q' }).ok)
})

t.test('receipts and message ids parse only in their canonical form and for their shard', async (t) => {
  const receipt = formatReceipt(3, 1042 * 1024 + 7, 2, 1310)
  t.equal(receipt, '3-1042-7.2.1310')
  t.same(parseReceipt(receipt, 3), { key: 1042 * 1024 + 7, receiveCount: 2, receiveLogIndex: 1310 })
  t.equal(parseReceipt(receipt, 4), undefined)
  t.equal(parseReceipt('3-01042-7.2.1310', 3), undefined)
  t.equal(parseReceipt('3-1042-7.2', 3), undefined)
  t.equal(parseMessageId('3-1042-1024', 3), undefined, 'position beyond the slots of an entry')
  t.equal(parseMessageId('3-0-0', 3), undefined, 'log indexes start at 1')
})

const BAD_COMMANDS: Array<[string, unknown]> = [
  ['not an object', 'queue.send'],
  ['null', null],
  ['an array', [1, 2]],
  ['unknown type', { type: 'queue.drop', queue: 'q' }],
  ['bad queue name', { type: 'queue.send', queue: 'no spaces', messages: [{ body: bytes('a') }] }],
  ['body not bytes', { type: 'queue.send', queue: 'q', messages: [{ body: 'text' }] }],
  ['empty batch', { type: 'queue.send', queue: 'q', messages: [] }],
  ['batch over 1000', { type: 'queue.send', queue: 'q', messages: Array.from({ length: 1001 }, () => ({ body: bytes('a') })) }],
  ['batch over 10 MiB', { type: 'queue.send', queue: 'q', messages: Array.from({ length: 11 }, () => ({ body: new Uint8Array(1024 * 1024) })) }],
  ['priority 10', { type: 'queue.send', queue: 'q', messages: [{ body: bytes('a'), priority: 10 }] }],
  ['negative delay', { type: 'queue.send', queue: 'q', messages: [{ body: bytes('a'), delayMs: -1 }] }],
  ['empty dedupId', { type: 'queue.send', queue: 'q', messages: [{ body: bytes('a'), dedupId: '' }] }],
  ['receive max 101', { type: 'queue.receive', queue: 'q', max: 101 }],
  ['receive fractional visibility', { type: 'queue.receive', queue: 'q', max: 1, visibilityTimeoutMs: 1.5 }],
  ['ack without receipts', { type: 'queue.ack', queue: 'q', receipts: [] }],
  ['ack with a number', { type: 'queue.ack', queue: 'q', receipts: [5] }],
  ['nack with huge delay', { type: 'queue.nack', queue: 'q', receipt: '1-2-0.1.3', delayMs: 1e15 }],
  ['visibility 0', { type: 'queue.visibility', queue: 'q', receipt: '1-2-0.1.3', timeoutMs: 0 }],
  ['config unknown field', { type: 'queue.update', queue: 'q', config: { colour: 'red' } }],
  ['config negative maxReceives', { type: 'queue.update', queue: 'q', config: { maxReceives: -1 } }],
  ['config bad dlq name', { type: 'queue.update', queue: 'q', config: { deadLetterQueue: 'a b' } }],
  ['create with non-boolean update', { type: 'queue.create', queue: 'q', update: 'yes' }],
  ['kv value not bytes', { type: 'kv.put', key: 'k', value: 'v' }],
  ['kv negative ttl', { type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: -5 }],
  ['kv ifVersion fractional', { type: 'kv.put', key: 'k', value: bytes('v'), ifVersion: 1.5 }],
  ['kv key number', { type: 'kv.delete', key: 5 }],
]

t.test('bad input is answered with an error and never changes state', async (t) => {
  const h = new Harness()
  h.createQueue('q', { visibilityTimeoutMs: 100, maxReceives: 3 })
  h.send('q', 'a', 'b')
  h.receive('q', 1)
  h.ok({ type: 'kv.put', key: 'k', value: bytes('v'), ttlMs: 5000 })
  for (const [name, command] of BAD_COMMANDS) {
    h.advance(1000)
    const before = contentBytes(h.machine)
    const dueBefore = h.machine.nextDueMs()
    const { result, effects } = h.applyRaw(command)
    t.notOk(result.ok, `${name}: refused`)
    if (!result.ok) t.ok(['INVALID_ARGUMENT', 'PAYLOAD_TOO_LARGE'].includes(result.error.code), `${name}: ${result.error.code}`)
    t.same(effects, [], `${name}: no effects`)
    t.ok(contentBytes(h.machine).equals(before), `${name}: state unchanged (no lazy expiry either)`)
    t.equal(h.machine.nextDueMs(), dueBefore)
  }
  t.equal(h.machine.lastAppliedIndex, h.index, 'refused entries still count as applied')
})

t.test('a caller bug (entry out of order, wrong shard, bad time) throws loudly', async (t) => {
  const machine = new ShardMachine(1)
  machine.apply({ type: 'tick' }, { index: 5, nowMs: 10, shard: 1 })
  t.throws(() => machine.apply({ type: 'tick' }, { index: 5, nowMs: 10, shard: 1 }), MachineInvariantError)
  t.throws(() => machine.apply({ type: 'tick' }, { index: 4, nowMs: 10, shard: 1 }), MachineInvariantError)
  t.throws(() => machine.apply({ type: 'tick' }, { index: 6, nowMs: 10, shard: 2 }), MachineInvariantError)
  t.throws(() => machine.apply({ type: 'tick' }, { index: 6, nowMs: Number.NaN, shard: 1 }), MachineInvariantError)
  t.equal(machine.lastAppliedIndex, 5)
})

t.test('restoring bytes that are not a snapshot throws', async (t) => {
  t.throws(() => ShardMachine.restore(new Uint8Array([0xc1])), MachineInvariantError)
  t.throws(() => ShardMachine.restore(new Uint8Array([0x93, 1, 2, 3])), MachineInvariantError)
})
