// The node-to-node network layer: framing, handshake, connections, links.
export { NetError, isNetError, type NetErrorCode } from './net-error.js'
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
} from './peer-handshake.js'
export { PeerConnection, type PeerConnectionHandlers, type PeerConnectionStats } from './peer-connection.js'
export { peerConnectionDefaults, type PeerConnectionOptions } from './peer-connection-options.js'
export { PeerServer, peerServerDefaults, type PeerServerOptions, type PeerServerStats } from './peer-server.js'
export { dialPeer, dialPeerDefaults, type DialPeerOptions } from './dial-peer.js'
export { backoffDefaults, backoffDelayMs, type BackoffOptions } from './backoff.js'
export { PeerLink, type PeerLinkEvent, type PeerLinkOptions, type PeerLinkState, type PeerLinkStats } from './peer-link.js'
export { PeerTransport, PEER_TRANSPORT_MAX_PEERS, type PeerTransportOptions } from './peer-transport.js'
