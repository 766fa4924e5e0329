// Validation of client-supplied fields, shared by the gateways and the
// machine. Each check returns undefined when the value is acceptable, or the
// error to answer with (INVALID_ARGUMENT → 400, PAYLOAD_TOO_LARGE → 413).
import { machineError, type MachineError } from './errors.js'
import {
  ACK_RECEIPTS_MAX,
  DEDUP_ID_LENGTH_MAX,
  KV_KEY_BYTES_MAX,
  KV_VALUE_BYTES_MAX,
  MESSAGE_BODY_BYTES_MAX,
  PRIORITY_MAX,
  PRIORITY_MIN,
  QUEUE_NAME_PATTERN,
  RECEIPT_LENGTH_MAX,
  RECEIVE_MESSAGES_MAX,
  RECEIVE_WAIT_MS_MAX,
  SEND_BATCH_MESSAGES_MAX,
} from './limits.js'

function invalid(message: string): MachineError {
  return machineError('INVALID_ARGUMENT', message)
}

/** An integer in [min, max]; `field` names it in the message. */
export function checkIntegerInRange(value: unknown, min: number, max: number, field: string): MachineError | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    return invalid(`${field} must be an integer in [${min}, ${max}]`)
  }
  return undefined
}

export function checkQueueName(name: unknown, field = 'queue'): MachineError | undefined {
  if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
    return invalid(`${field} must match ${QUEUE_NAME_PATTERN.source}`)
  }
  return undefined
}

export function checkKey(key: unknown): MachineError | undefined {
  if (typeof key !== 'string' || key.length === 0) return invalid('key must be a non-empty string')
  // A UTF-16 string has at most 3 UTF-8 bytes per code unit: skip the count for short keys.
  if (key.length * 3 > KV_KEY_BYTES_MAX && Buffer.byteLength(key, 'utf8') > KV_KEY_BYTES_MAX) {
    return invalid(`key must be at most ${KV_KEY_BYTES_MAX} bytes`)
  }
  return undefined
}

function checkBytes(value: unknown, maxBytes: number, field: string): MachineError | undefined {
  if (!(value instanceof Uint8Array)) return invalid(`${field} must be bytes`)
  if (value.byteLength > maxBytes) return machineError('PAYLOAD_TOO_LARGE', `${field} must be at most ${maxBytes} bytes`)
  return undefined
}

/** A message body as the machine stores it: opaque bytes (the gateway's encoding of the client's body). */
export function checkBody(body: unknown): MachineError | undefined {
  return checkBytes(body, MESSAGE_BODY_BYTES_MAX, 'body')
}

export function checkValue(value: unknown): MachineError | undefined {
  return checkBytes(value, KV_VALUE_BYTES_MAX, 'value')
}

export function checkBatchSize(count: number): MachineError | undefined {
  return checkIntegerInRange(count, 1, SEND_BATCH_MESSAGES_MAX, 'the number of messages in a batch')
}

export function checkPriority(priority: unknown): MachineError | undefined {
  return checkIntegerInRange(priority, PRIORITY_MIN, PRIORITY_MAX, 'priority')
}

export function checkWaitMs(waitMs: unknown): MachineError | undefined {
  return checkIntegerInRange(waitMs, 0, RECEIVE_WAIT_MS_MAX, 'waitMs')
}

export function checkReceiveMax(max: unknown): MachineError | undefined {
  return checkIntegerInRange(max, 1, RECEIVE_MESSAGES_MAX, 'max')
}

export function checkDedupId(dedupId: unknown): MachineError | undefined {
  if (typeof dedupId !== 'string' || dedupId.length === 0 || dedupId.length > DEDUP_ID_LENGTH_MAX) {
    return invalid(`dedupId must be a string of 1 to ${DEDUP_ID_LENGTH_MAX} characters`)
  }
  return undefined
}

export function checkReceipt(receipt: unknown): MachineError | undefined {
  if (typeof receipt !== 'string' || receipt.length === 0 || receipt.length > RECEIPT_LENGTH_MAX) {
    return invalid(`receipt must be a string of 1 to ${RECEIPT_LENGTH_MAX} characters`)
  }
  return undefined
}

export function checkReceiptCount(count: number): MachineError | undefined {
  return checkIntegerInRange(count, 1, ACK_RECEIPTS_MAX, 'the number of receipts')
}
