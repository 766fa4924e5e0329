// Load generator of `bench/http.ts`, run as a child process so that its CPU
// is neither on the server's event loop nor in the server process's CPU
// time, which the bench divides by operations. Keep-alive
// connections, one per concurrent loop; every request's latency goes into an
// hdr histogram.
import http from 'node:http'
import { createLatencyHistogram, summarize, type LatencySummary } from './report.js'

export type HttpOperation = 'send' | 'receive-ack' | 'kv-put' | 'kv-get'

export interface HttpLoadJob {
  port: number
  operation: HttpOperation
  queue: string
  keys: number
  concurrency: number
  warmupMs: number
  durationMs: number
}

export interface HttpLoadResult {
  operations: number
  elapsedMs: number
  errors: number
  /** True when the queue ran dry before the time was up (receive-ack). */
  drained: boolean
  latency: LatencySummary
}

const job = JSON.parse(process.argv[2] ?? '{}') as HttpLoadJob
const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency, keepAliveMsecs: 10_000 })

interface Answer {
  status: number
  body: string
}

function request(method: string, path: string, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {}
    if (body !== undefined) {
      headers['content-length'] = Buffer.byteLength(body)
      headers['content-type'] = typeof body === 'string' ? 'application/json' : 'application/octet-stream'
    }
    const req = http.request({ agent, host: '127.0.0.1', port: job.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const payload = 'x'.repeat(100)
const value = Buffer.alloc(100, 7)

/** One operation; resolves false when there was nothing to do (an empty queue). */
async function operate(sequence: number): Promise<boolean> {
  switch (job.operation) {
    case 'send': {
      const answer = await request('POST', `/v1/queues/${job.queue}/messages`, JSON.stringify({ body: { n: sequence, payload } }))
      if (answer.status !== 201) throw new Error(`send answered ${answer.status}`)
      return true
    }
    case 'receive-ack': {
      const answer = await request('POST', `/v1/queues/${job.queue}/receive`, '{"max":1}')
      if (answer.status !== 200) throw new Error(`receive answered ${answer.status}`)
      const [message] = (JSON.parse(answer.body) as { messages: { receipt: string }[] }).messages
      if (message === undefined) return false
      const ack = await request('POST', `/v1/queues/${job.queue}/ack`, JSON.stringify({ receipt: message.receipt }))
      if (ack.status !== 204) throw new Error(`ack answered ${ack.status}`)
      return true
    }
    case 'kv-put': {
      const answer = await request('PUT', `/v1/kv/bench-${sequence % job.keys}`, value)
      if (answer.status !== 200) throw new Error(`kv put answered ${answer.status}`)
      return true
    }
    case 'kv-get': {
      const answer = await request('GET', `/v1/kv/bench-${sequence % job.keys}`)
      if (answer.status !== 200) throw new Error(`kv get answered ${answer.status}`)
      return true
    }
  }
}

async function run(): Promise<HttpLoadResult> {
  const histogram = createLatencyHistogram()
  const startMs = performance.now()
  const measureFromMs = startMs + job.warmupMs
  const endMs = measureFromMs + job.durationMs
  let operations = 0
  let errors = 0
  let drained = false
  let sequence = 0
  // Tell the bench when measuring starts, so it reads the server's CPU time over the same window.
  setTimeout(() => process.send!({ measuring: true }), job.warmupMs)
  const loop = async () => {
    // Bounded by time, and by errors so a broken server cannot keep it spinning.
    while (!drained && errors < 100) {
      const beganMs = performance.now()
      if (beganMs >= endMs) return
      try {
        if (!(await operate(sequence++))) {
          drained = true
          return
        }
      } catch {
        errors++
        continue
      }
      if (beganMs >= measureFromMs) {
        histogram.recordValue(Math.max(1, Math.round((performance.now() - beganMs) * 1000)))
        operations++
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, loop))
  const elapsedMs = Math.min(performance.now(), endMs) - measureFromMs
  agent.destroy()
  return { operations, elapsedMs, errors, drained, latency: summarize(histogram) }
}

process.send!(await run(), () => process.exit(0))
