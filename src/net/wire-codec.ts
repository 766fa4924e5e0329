// The msgpack dialect of the peer wire (and of the client protocol, issue 7).
//
// Plain, self-describing msgpack: no msgpackr records, no shared structures.
// Two processes share nothing but the protocol version, so a restarted node, a
// node of another build or a client written in another language decodes every
// frame. Record tables save a few bytes per object, but a table that drifts
// between two builds would silently corrupt messages; the peer wire is not the
// hot path that the cross-thread rings are.
//
// One Unpackr per connection: msgpackr keeps decoding state on the instance,
// and one peer's bytes must never influence how another's are read.
import { Packr, Unpackr } from 'msgpackr'

export function createWirePackr(): Packr {
  return new Packr({ useRecords: false, variableMapSize: true })
}

/** Frames of at least this many bytes are decoded from a copy of their own (see FrameDecoder). */
export const OWN_FRAME_MIN_BYTES = 1024

/**
 * `copy: true` (the default): decoded binaries are copies, so a Uint8Array never
 * pins the socket chunk it came from (Raft keeps entries in memory long after
 * the chunk is gone). `copy: false`: binaries are views of the source, for a
 * source that is already a private copy of one frame (see FrameDecoder).
 */
export function createWireUnpackr(options: { copy?: boolean } = {}): Unpackr {
  return new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: options.copy ?? true })
}
