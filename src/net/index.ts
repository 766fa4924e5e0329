// The network layer: framing, the node-to-node handshake, connections and links, and the client protocol server.
export { NetError, isNetError, refusalCode, type NetErrorCode, type NodeRefusalCode, type RemoteRefusal } from './net-error.js'
export { FrameDecoder, NO_FRAME, FRAME_HEADER_BYTES, FRAME_MAX_LENGTH, type FrameDecoderOptions } from './frame-decoder.js'
export { FrameEncoder, type FrameEncoderOptions } from './frame-encoder.js'
export { createWirePackr, createWireUnpackr } from './wire-codec.js'
export { parsePeerAddress, formatPeerAddress, type PeerAddress } from './peer-address.js'
export {
  PeerHandshake,
  PEER_PROTOCOL_VERSION,
  HANDSHAKE_MAX_FRAME_BYTES,
  proofMac,
  type HandshakeMessage,
  type HandshakeStep,
  type PeerHandshakeOptions,
  type PeerIdentity,
  type PeerRole,
  type ReadMode,
} from './peer-handshake.js'
export { PeerConnection, type PeerConnectionHandlers, type PeerConnectionStats } from './peer-connection.js'
export { peerConnectionDefaults, type PeerConnectionOptions } from './peer-connection-options.js'
export { PeerServer, peerServerDefaults, type PeerServerOptions, type PeerServerStats } from './peer-server.js'
export { dialPeer, dialPeerDefaults, type DialPeerOptions } from './dial-peer.js'
export { backoffDefaults, backoffDelayMs, type BackoffOptions } from './backoff.js'
export { PeerLink, type PeerLinkEvent, type PeerLinkOptions, type PeerLinkState, type PeerLinkStats } from './peer-link.js'
export { PeerTransport, PEER_TRANSPORT_MAX_PEERS, type PeerTransportOptions } from './peer-transport.js'
// The client protocol server (docs/PROTOCOL.md).
export { startClientServer, type ClientServerHandle, type ClientServerStats } from './client-server.js'
export { clientServerDefaults, type ClientServerOptions } from './client-server-options.js'
export {
  CLIENT_PROTOCOL_VERSION,
  type ClientAnswer,
  type ClientErrorCode,
  type ClientHello,
  type ClientRequest,
  type ClientWelcome,
  type ClientWireError,
  type LeaderHint,
} from './client-protocol.js'
export { CLIENT_OPS } from './client-ops.js'
