// troupe: start a node in process and use its queues and KV; the actor
// runtime is re-exported for applications that define their own actors
// (also available alone as troupe/runtime).
export { startNode } from './node/start-node.js'
export { TroupeNode, Queues, Kv, type Message, type QueueInfo, type KvValue, type ClusterStatus, type SendOptions as QueueSendOptions, type ReceiveOptions, type BatchMessage } from './node/troupe-node.js'
export { TroupeError, isTroupeError, type TroupeErrorCode } from './node/node-errors.js'
export type { NodeOptions } from './node/node-options.js'
export type { WriteBudget } from './node/write-budget.js'
export * from './runtime/index.js'
