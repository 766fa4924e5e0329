// Recovery: scan every segment in order, verify each record, and stop at the first
// record that is torn or corrupt. The file is truncated there and later segments are
// moved aside (renamed `*.corrupt-<ms>`), never replayed: a log is only meaningful as a
// prefix. Records after a damaged one may depend on it (a lost truncate marker would
// resurrect entries a leader overwrote; a lost entry would leave a hole), so skipping
// the damage could return a log that never existed.
import { readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeRecord, RECORD_HEADER_BYTES, type WalRecord } from './record-codec.js'
import { closeFile, fstat, fsyncDirectory, fsyncFile, ftruncate, openFile, readFullyAt } from './fs-io.js'
import { isValidSegmentHeader, parseSegmentFileName, SEGMENT_HEADER_BYTES, segmentFileName as segmentName } from './segment-file.js'
import { Segment } from './segment.js'

export interface RecoveryReport {
  segmentsScanned: number
  recordsRecovered: number
  /** Where recovery stopped before the end of the log, if it did. */
  stoppedAt: { file: string; offsetBytes: number; reason: string } | undefined
  /** Segments after the damage, renamed aside and not replayed. */
  quarantined: string[]
  /** Files deleted: segments older than a gap in the sequence, or torn at creation. */
  removed: string[]
}

export type RecordSink = (record: WalRecord, segment: Segment, offsetBytes: number, sizeBytes: number) => void

const SCAN_CHUNK_BYTES = 1 << 20

export async function recoverSegments(
  dir: string,
  payloadBytesMax: number,
  onRecord: RecordSink,
): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  const report: RecoveryReport = {
    segmentsScanned: 0,
    recordsRecovered: 0,
    stoppedAt: undefined,
    quarantined: [],
    removed: [],
  }
  const sequences = (await readdir(dir))
    .map(parseSegmentFileName)
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => a - b)
  // Segments are deleted oldest first, so a gap means the ones before it were being
  // deleted when the process stopped; they hold nothing the log still needs.
  let first = sequences.length - 1
  while (first > 0 && sequences[first - 1] === sequences[first]! - 1) first--
  for (const sequence of sequences.slice(0, Math.max(0, first))) {
    await unlink(join(dir, segmentName(sequence)))
    report.removed.push(segmentName(sequence))
  }
  const run = sequences.slice(Math.max(0, first))
  const segments: Segment[] = []
  let changed = report.removed.length > 0
  for (let i = 0; i < run.length; i++) {
    const sequence = run[i]!
    const path = join(dir, segmentName(sequence))
    const fd = await openFile(path, 'r+')
    const sizeBytes = (await fstat(fd)).size
    const segment = new Segment(sequence, path, fd, sizeBytes)
    report.segmentsScanned++
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES)
    const headerBytes = await readFullyAt(fd, header, SEGMENT_HEADER_BYTES, 0)
    if (headerBytes < SEGMENT_HEADER_BYTES || !isValidSegmentHeader(header, sequence)) {
      await closeFile(fd)
      if (i === run.length - 1 && sizeBytes < SEGMENT_HEADER_BYTES) {
        // Created but its header never fully reached the disk: nothing was confirmed from it.
        await unlink(path)
        report.removed.push(segmentName(sequence))
      } else {
        report.stoppedAt = { file: segmentName(sequence), offsetBytes: 0, reason: 'bad segment header' }
        await quarantine(dir, run.slice(i), report)
      }
      changed = true
      break
    }
    let stop = await scanSegment(segment, payloadBytesMax, (record, offset, size) => {
      report.recordsRecovered++
      onRecord(record, segment, offset, size)
    })
    segments.push(segment)
    if (stop !== undefined && (await isZeroFrom(fd, stop.offsetBytes, sizeBytes))) {
      // The preallocated zeros after the last record: the normal end of a segment.
      // Trimmed to free the space; losing the trim in a crash is harmless.
      await ftruncate(fd, stop.offsetBytes)
      segment.sizeBytes = stop.offsetBytes
      segment.allocatedBytes = stop.offsetBytes
      stop = undefined
    }
    if (stop !== undefined) {
      report.stoppedAt = { file: segmentName(sequence), offsetBytes: stop.offsetBytes, reason: stop.reason }
      await ftruncate(fd, stop.offsetBytes)
      await fsyncFile(fd)
      segment.sizeBytes = stop.offsetBytes
      segment.allocatedBytes = stop.offsetBytes
      await quarantine(dir, run.slice(i + 1), report)
      changed = true
      break
    }
  }
  if (changed) await fsyncDirectory(dir)
  return { segments, report }
}

async function quarantine(dir: string, sequences: number[], report: RecoveryReport): Promise<void> {
  const stamp = Date.now()
  for (const sequence of sequences) {
    const name = segmentName(sequence)
    await rename(join(dir, name), join(dir, `${name}.corrupt-${stamp}`))
    report.quarantined.push(name)
  }
}

async function isZeroFrom(fd: number, fromBytes: number, fileBytes: number): Promise<boolean> {
  if (fromBytes >= fileBytes) return false
  const buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, fileBytes - fromBytes))
  // Bounded by the file size, one chunk per iteration.
  for (let at = fromBytes; at < fileBytes; at += buf.byteLength) {
    const n = await readFullyAt(fd, buf, Math.min(buf.byteLength, fileBytes - at), at)
    for (let i = 0; i < n; i++) if (buf[i] !== 0) return false
    if (n === 0) break
  }
  return true
}

/** Calls `onRecord` for each valid record; returns where and why it stopped early, if it did. */
async function scanSegment(
  segment: Segment,
  payloadBytesMax: number,
  onRecord: (record: WalRecord, offsetBytes: number, sizeBytes: number) => void,
): Promise<{ offsetBytes: number; reason: string } | undefined> {
  const fileBytes = segment.sizeBytes
  let buf = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
  let windowStart = SEGMENT_HEADER_BYTES
  let windowBytes = 0
  let position = SEGMENT_HEADER_BYTES
  while (position < fileBytes) {
    const relative = position - windowStart
    const result = decodeRecord(buf, relative, windowBytes, payloadBytesMax)
    if (result.status === 'ok') {
      onRecord(result.record, position, result.sizeBytes)
      position += result.sizeBytes
      continue
    }
    if (result.status === 'torn' && windowStart + windowBytes < fileBytes) {
      // The window ends before the file does: slide it to this record, large enough for it.
      const available = windowBytes - relative
      const payloadBytes = available >= 4 ? buf.readUInt32LE(relative) : 0
      // An over-bound length is reported as corrupt once the header is in the window.
      const needed = RECORD_HEADER_BYTES + (payloadBytes <= payloadBytesMax ? payloadBytes : 0)
      if (needed > buf.byteLength) buf = Buffer.allocUnsafe(needed)
      windowStart = position
      windowBytes = await readFullyAt(segment.fd, buf, Math.min(buf.byteLength, fileBytes - position), position)
      continue
    }
    return { offsetBytes: position, reason: result.status === 'torn' ? 'torn record' : result.reason }
  }
  return undefined
}
