// Transport by name. `addresses` are HTTP addresses for http and client TCP
// addresses for tcp.
import { HttpTransport } from './http-transport.js'
import { TcpTransport } from './tcp-transport.js'
import type { Transport, TransportName } from './transport.js'

export interface TransportSettings {
  addresses: string[]
  concurrency: number
  token: string | undefined
  requestTimeoutMs: number
}

export async function createTransport(name: TransportName, settings: TransportSettings): Promise<Transport> {
  switch (name) {
    case 'http':
      return new HttpTransport({
        addresses: settings.addresses,
        maxSockets: settings.concurrency,
        requestTimeoutMs: settings.requestTimeoutMs,
        ...(settings.token ? { token: settings.token } : {}),
      })
    case 'tcp':
      return TcpTransport.open({ addresses: settings.addresses, requestTimeoutMs: settings.requestTimeoutMs, ...(settings.token ? { token: settings.token } : {}) })
  }
}
