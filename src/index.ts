// troupe: the package's main entry. The node (startNode) arrives with the node
// layer; today it re-exports the actor runtime.
export * from './runtime/index.js'
