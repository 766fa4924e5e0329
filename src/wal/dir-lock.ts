// One writer per WAL directory: a second process (or a second Wal in this process)
// appending to the same segments would interleave records and corrupt the log.
// The lock is a file holding the owner's pid; a lock left by a killed process is taken
// over when that pid no longer runs (pid reuse can make a stale lock look live: then
// the open fails loudly and the operator removes the LOCK file).
import { readFile, unlink, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { WalError } from './errors.js'

const heldInThisProcess = new Set<string>()

export interface DirLock {
  release(): Promise<void>
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function lockDirectory(dir: string): Promise<DirLock> {
  const key = resolve(dir)
  if (heldInThisProcess.has(key)) throw new WalError('WAL_LOCKED', `${dir} is already open in this process`)
  const path = join(dir, 'LOCK')
  // Two attempts: the second after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' })
      heldInThisProcess.add(key)
      let released = false
      return {
        release: async () => {
          if (released) return
          released = true
          heldInThisProcess.delete(key)
          await unlink(path).catch(() => undefined)
        },
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new WalError('WAL_LOCKED', `${dir} is locked by running process ${owner}`)
      }
      await unlink(path).catch(() => undefined)
    }
  }
  throw new WalError('WAL_LOCKED', `could not take the lock on ${dir}`)
}
