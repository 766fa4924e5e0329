// Reads a request body up to a limit. A declared Content-Length over the
// limit is refused before any byte is read; a chunked body is counted while
// it streams, so an oversize request never sits whole in memory.
import type { IncomingMessage } from 'node:http'
import type { WriteBudget } from '../node/write-budget.js'
import { HttpError } from './http-error.js'

const EMPTY = Buffer.alloc(0)

export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limitBytes) {
    return Promise.reject(tooLarge(limitBytes))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let sizeBytes = 0
    let settled = false
    const finish = (error: HttpError | undefined) => {
      if (settled) return
      settled = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onError)
      if (error) reject(error)
      else resolve(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, sizeBytes))
    }
    const onData = (chunk: Buffer) => {
      sizeBytes += chunk.length
      if (sizeBytes > limitBytes) {
        chunks.length = 0
        // Stop reading; the caller answers 413 and closes the connection.
        req.pause()
        finish(tooLarge(limitBytes))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => finish(undefined)
    // A client that goes away mid-body surfaces here (ECONNRESET, 'aborted').
    const onError = () => finish(new HttpError('INVALID_ARGUMENT', 'the request body could not be read'))
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    // 'close' before 'end': the body will never complete.
    req.on('close', onError)
  })
}

/** Request bodies from this size on count in the node's write budget while they are read (see readCountedBody). */
const COUNTED_BODY_BYTES_MIN = 64 * 1024

/**
 * Reads and parses a body that counts in the node's write budget, if it is
 * 64 KiB or more, until the handler calls the node. One the busy node has no
 * room for is refused before it is read; node:http then reads it to its end
 * and drops it (within the body limit), so the client still gets the 503
 * and the connection stays usable. Smaller bodies (acks, receives, which
 * free the node) are never held back here.
 */
export async function readCountedBody<T>(req: IncomingMessage, limitBytes: number, writes: WriteBudget, parse: (raw: Buffer) => T): Promise<T> {
  const declared = Number(req.headers['content-length'] ?? 0)
  const counted = Number.isSafeInteger(declared) && declared >= COUNTED_BODY_BYTES_MIN && declared <= limitBytes ? declared : 0
  if (!writes.tryTake(counted)) throw writes.overloaded()
  try {
    return parse(await readBody(req, limitBytes))
  } finally {
    writes.give(counted)
  }
}

/** The body as read (readCountedBody's `parse` for raw bodies). */
export function rawBody(raw: Buffer): Buffer {
  return raw
}

function tooLarge(limitBytes: number): HttpError {
  return new HttpError('PAYLOAD_TOO_LARGE', `the request body exceeds ${limitBytes} bytes`)
}

/** Parses a JSON body; an empty body is `{}` (every JSON route's fields are optional or checked by its schema). */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return {}
  try {
    return JSON.parse(raw.toString('utf8')) as unknown
  } catch (error) {
    throw new HttpError('INVALID_ARGUMENT', `the request body is not valid JSON: ${(error as Error).message}`)
  }
}
