// The replicated state machines of a shard: queues and KV (see README.md).
export { ShardMachine } from './shard-machine.js'
export {
  checkShardCommand,
  validateShardCommand,
  type KvDeleteCommand,
  type KvPutCommand,
  type QueueAckCommand,
  type QueueCreateCommand,
  type QueueDeadLetteredCommand,
  type QueueDeleteCommand,
  type QueueNackCommand,
  type QueuePurgeCommand,
  type QueueReceiveCommand,
  type QueueSendCommand,
  type QueueUpdateCommand,
  type QueueVisibilityCommand,
  type SendMessage,
  type ShardCommand,
  type ShardCommandType,
  type TickCommand,
} from './commands.js'
export { deadLetterDedupId, type DeadLetterEffect, type MessagesAvailableEffect, type QueueDeletedEffect, type ShardEffect } from './effects.js'
export { MachineInvariantError, isMachineError, machineError, type MachineError, type MachineErrorCode } from './errors.js'
export { defaultQueueConfig, checkQueueConfigPatch, type QueueConfig, type QueueConfigPatch } from './queue-config.js'
export type {
  ApplyMeta,
  ApplyOutput,
  ApplyResult,
  CommandResults,
  FailedDeliveryOutcome,
  KvEntryView,
  QueueStats,
  ReceivedMessage,
  ResultOf,
} from './results.js'
export { formatMessageId, formatReceipt, parseMessageId, parseReceipt, type ParsedReceipt } from './message-id.js'
export { SNAPSHOT_FORMAT_VERSION } from './snapshot-codec.js'
export { SnapshotParts, assembleParts, concatParts } from './snapshot-parts.js'
export * from './limits.js'
export * from './validate.js'
