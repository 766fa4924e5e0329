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

export function createWireUnpackr(): Unpackr {
  // copyBuffers: a decoded Uint8Array must not pin the whole socket chunk it
  // came from (Raft keeps entries in memory long after the chunk is gone).
  return new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true })
}
