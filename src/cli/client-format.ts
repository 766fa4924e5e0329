// How the client commands print: short aligned tables for people, one JSON
// document for scripts, and one `error CODE: message` line for failures.

/** Rows under a header, each column as wide as its widest cell, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** `name  value` lines with the names aligned. */
export function keyValues(pairs: [string, string][]): string {
  const width = Math.max(0, ...pairs.map(([name]) => name.length))
  return pairs.map(([name, value]) => `${name.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n'
}

/**
 * JSON text for anything the SDK returns: byte arrays become
 * `{"$base64": "..."}` (JSON has no bytes), bigints become strings.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, function replace(this: Record<string, unknown>, key: string, converted: unknown) {
    // `this[key]` is the value before toJSON, which turns a Buffer into {type, data}.
    const raw = this[key]
    if (raw instanceof Uint8Array) return { $base64: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') }
    if (typeof converted === 'bigint') return converted.toString()
    return converted
  })
}

/** A message body in one table cell: a string as it is, anything else as JSON, line ends escaped. */
export function bodyText(body: unknown): string {
  const text = typeof body === 'string' ? body : jsonText(body) ?? String(body)
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n')
}

export interface ErrorLike {
  code: string
  message: string
  missing?: string[]
  /** Requests the SDK made before giving up (its TroupeClientError carries it). */
  attempts?: number
}

export function isErrorLike(error: unknown): error is ErrorLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as ErrorLike).code === 'string' &&
    typeof (error as ErrorLike).message === 'string'
  )
}

/** The stderr line of a failed request, e.g. `error QUEUE_NOT_FOUND: queue 'x' does not exist`. */
export function errorLine(error: ErrorLike): string {
  const missing = error.missing && error.missing.length > 0 ? ` (missing: ${error.missing.join(', ')})` : ''
  return `error ${error.code}: ${error.message}${missing}\n`
}

/** The JSON document printed on stdout with --json when a request failed. */
export function errorDocument(error: ErrorLike): { error: { code: string; message: string; missing?: string[]; attempts?: number } } {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(Array.isArray(error.missing) ? { missing: error.missing } : {}),
      ...(typeof error.attempts === 'number' ? { attempts: error.attempts } : {}),
    },
  }
}
