// Deterministic message ids and receipts.
//
//   message id  "<shard>-<logIndex>-<position>"      e.g. "3-1042-7"
//   receipt     "<messageId>.<receiveCount>.<receiveLogIndex>"   e.g. "3-1042-7.2.1310"
//
// A message id comes from the send's log entry and the message's position in
// its batch, so every replica (and every replay) names it the same way. A
// receipt names one delivery: the receive's log index differs for every
// delivery, so a receipt from an earlier delivery never matches again.
// Inside the machine a message is keyed by the number
// `logIndex * MESSAGE_SLOTS_PER_ENTRY + position`, which also orders messages
// by send order.
import { LOG_INDEX_MAX, MESSAGE_SLOTS_PER_ENTRY } from './limits.js'

export type MessageKey = number

export function messageKey(logIndex: number, position: number): MessageKey {
  return logIndex * MESSAGE_SLOTS_PER_ENTRY + position
}

export function formatMessageId(shard: number, key: MessageKey): string {
  const position = key % MESSAGE_SLOTS_PER_ENTRY
  const logIndex = (key - position) / MESSAGE_SLOTS_PER_ENTRY
  return `${shard}-${logIndex}-${position}`
}

export function formatReceipt(shard: number, key: MessageKey, receiveCount: number, receiveLogIndex: number): string {
  return `${formatMessageId(shard, key)}.${receiveCount}.${receiveLogIndex}`
}

const MESSAGE_ID = /^(\d{1,10})-(\d{1,16})-(\d{1,4})$/
const RECEIPT = /^(\d{1,10}-\d{1,16}-\d{1,4})\.(\d{1,10})\.(\d{1,16})$/

/** The key of a message id minted by `shard`, or undefined when it is not one (malformed, or another shard's). */
export function parseMessageId(id: string, shard: number): MessageKey | undefined {
  const match = MESSAGE_ID.exec(id)
  if (match === null) return undefined
  const idShard = Number(match[1])
  const logIndex = Number(match[2])
  const position = Number(match[3])
  if (idShard !== shard || logIndex < 1 || logIndex > LOG_INDEX_MAX || position >= MESSAGE_SLOTS_PER_ENTRY) return undefined
  const key = messageKey(logIndex, position)
  // Only the canonical spelling is ours (no leading zeros).
  return formatMessageId(shard, key) === id ? key : undefined
}

export interface ParsedReceipt {
  key: MessageKey
  receiveCount: number
  receiveLogIndex: number
}

export function parseReceipt(receipt: string, shard: number): ParsedReceipt | undefined {
  const match = RECEIPT.exec(receipt)
  if (match === null) return undefined
  const key = parseMessageId(match[1]!, shard)
  if (key === undefined) return undefined
  const receiveCount = Number(match[2])
  const receiveLogIndex = Number(match[3])
  if (formatReceipt(shard, key, receiveCount, receiveLogIndex) !== receipt) return undefined
  return { key, receiveCount, receiveLogIndex }
}
