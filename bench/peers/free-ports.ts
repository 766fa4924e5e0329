// Loopback ports the kernel says are free right now. Another process could
// take one before the peer binds it; the peer then fails to start and the
// bench reports that peer's startup error.
import { createServer, type Server } from 'node:net'

export const MAX_PORTS = 64

export async function freePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PORTS) throw new RangeError(`freePorts: count must be 1..${MAX_PORTS}, got ${count}`)
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer()
      servers.push(server)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(0, '127.0.0.1', resolve)
      })
    }
    return servers.map((server) => (server.address() as { port: number }).port)
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  }
}
