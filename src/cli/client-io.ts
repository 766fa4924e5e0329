// Where the client commands read and write: the process's streams, or
// buffers in tests. Reading stdin is bounded: a line or a whole value over
// its limit fails instead of growing memory without end.
import type { Readable } from 'node:stream'

export interface CliIo {
  stdout: { write(chunk: string | Uint8Array): unknown }
  stderr: { write(chunk: string): unknown }
  stdin: Readable
  /** True when stdout is a terminal: a human reads it, so a value printed raw gets a final newline. */
  stdoutIsTty: boolean
  env: Record<string, string | undefined>
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdoutIsTty: process.stdout.isTTY === true,
    env: process.env,
  }
}

/** Raised when stdin holds more than a command accepts. */
export class InputTooLargeError extends Error {
  readonly code = 'PAYLOAD_TOO_LARGE'
  constructor(message: string) {
    super(message)
    this.name = 'InputTooLargeError'
  }
}

/** All of `input`, failing once it passes `maxBytes` (the rest is not read). */
export async function readAllBounded(input: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let sizeBytes = 0
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    sizeBytes += buffer.byteLength
    if (sizeBytes > maxBytes) {
      input.destroy()
      throw new InputTooLargeError(`stdin holds more than ${maxBytes} bytes, the limit of a value`)
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}

/**
 * The lines of `input` as UTF-8 text (without their line ends, `\n` or
 * `\r\n`), skipping blank lines; a line longer than `maxLineBytes` fails
 * before it is held whole. Line numbers count every line, blank ones
 * included, so that they match what an editor shows.
 */
export async function* readLines(input: Readable, maxLineBytes: number): AsyncGenerator<{ line: string; lineNumber: number }> {
  let pending: Buffer[] = []
  let pendingBytes = 0
  let lineNumber = 0
  const tooLong = (number: number) => new InputTooLargeError(`line ${number} of stdin is longer than ${maxLineBytes} bytes, the limit of a message`)
  const finish = (): { line: string; lineNumber: number } | undefined => {
    lineNumber++
    let line = Buffer.concat(pending).toString('utf8')
    pending = []
    pendingBytes = 0
    if (line.endsWith('\r')) line = line.slice(0, -1)
    if (Buffer.byteLength(line) > maxLineBytes) throw tooLong(lineNumber)
    return line.trim() === '' ? undefined : { line, lineNumber }
  }
  for await (const chunk of input) {
    let buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    for (let end = buffer.indexOf(10); end !== -1; end = buffer.indexOf(10)) {
      if (pendingBytes + end > maxLineBytes + 1) throw tooLong(lineNumber + 1)
      pending.push(buffer.subarray(0, end))
      pendingBytes += end
      const next = finish()
      if (next) yield next
      buffer = buffer.subarray(end + 1)
    }
    pendingBytes += buffer.byteLength
    // +1 leaves room for the '\r' of a CRLF line end that has not arrived whole.
    if (pendingBytes > maxLineBytes + 1) throw tooLong(lineNumber + 1)
    if (buffer.byteLength > 0) pending.push(buffer)
  }
  if (pendingBytes > 0) {
    const last = finish()
    if (last) yield last
  }
}
