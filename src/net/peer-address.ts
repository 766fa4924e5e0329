// Peer addresses as written in options and on the command line: `host:port`,
// with IPv6 hosts in brackets (`[::1]:7282`).
import { NetError } from './net-error.js'

export interface PeerAddress {
  host: string
  port: number
}

export function parsePeerAddress(text: string): PeerAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  const host = match?.[1] ?? match?.[2]
  const port = match === null ? NaN : Number(match[3])
  if (host === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new NetError('INVALID_ADDRESS', `not a host:port address: ${JSON.stringify(text)}`)
  }
  return { host, port }
}

export function formatPeerAddress(address: PeerAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
