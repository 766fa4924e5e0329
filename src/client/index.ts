// troupe/client: the TypeScript SDK of Troupe's TCP client protocol (README.md here).
export { connect, TroupeClient } from './troupe-client.js'
export {
  TroupeClientError,
  isTroupeClientError,
  type ErrorCode,
  type ProtocolErrorCode,
  type ClientOnlyErrorCode,
  type LeaderHint,
} from './client-error.js'
export { clientDefaults, type ConnectOptions, type RetryOptions } from './client-options.js'
export type { QueueOperations } from './queue-operations.js'
export type { KvOperations } from './kv-operations.js'
export type { Consumer, ConsumeOptions, ConsumerStats, MessageHandler } from './queue-consumer.js'
export type {
  BatchMessage,
  ClusterMap,
  ClusterNode,
  ClusterShard,
  Consistency,
  KvEntry,
  Message,
  QueueConfig,
  QueueConfigPatch,
  QueueInfo,
  QueueStats,
  QueueSummary,
  ReceiveOptions,
  SendOptions,
} from './client-types.js'
