import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Wal } from '../../src/wal/index.js'
import { tempDir } from './helpers.js'

t.test('one Wal per directory at a time', async (t) => {
  const dir = await tempDir(t)
  const wal = await Wal.open({ dir })
  await t.rejects(Wal.open({ dir }), { code: 'WAL_LOCKED' })
  await wal.close()
  const again = await Wal.open({ dir })
  await again.close()
})

t.test('a lock held by another running process refuses the open', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'LOCK'), `${process.ppid}\n`)
  await t.rejects(Wal.open({ dir }), { code: 'WAL_LOCKED' })
})

t.test('a lock left by a process that is gone is taken over', async (t) => {
  const dir = await tempDir(t)
  // Above the kernel's largest pid (2^22), so no process can have it.
  await writeFile(join(dir, 'LOCK'), `${2 ** 22 + 17}\n`)
  const wal = await Wal.open({ dir })
  await wal.close()
})
