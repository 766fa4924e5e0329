import t from 'tap'
import { launch } from '../../bench/peers/process-launcher.js'

const node = process.execPath

t.test('ready() resolves on the ready line and stop() ends the process with SIGTERM', async (t) => {
  const managed = launch({
    name: 'fake-server',
    command: node,
    args: ['-e', "console.log('booting'); setTimeout(() => console.log('server is READY now'), 20); setInterval(() => {}, 1000)"],
    readyLine: /READY/,
    readyTimeoutMs: 10_000,
  })
  await managed.ready()
  t.match(managed.tail(), /booting\nserver is READY now/)
  t.equal(await managed.stop(), null, 'killed by the signal')
  t.equal(await managed.stop(), null, 'stopping twice is harmless')
})

t.test('a process that exits before its ready line rejects with PROCESS_EXITED and its output', async (t) => {
  const managed = launch({ name: 'crasher', command: node, args: ['-e', "console.error('bad config'); process.exit(3)"], readyLine: /READY/, readyTimeoutMs: 10_000 })
  await t.rejects(managed.ready(), { code: 'PROCESS_EXITED', message: /crasher exited with code 3[\s\S]*bad config/ })
})

t.test('a process that never prints its ready line is reported as READY_TIMEOUT', async (t) => {
  const managed = launch({ name: 'silent', command: node, args: ['-e', 'setInterval(() => {}, 1000)'], readyLine: /READY/, readyTimeoutMs: 200 })
  await t.rejects(managed.ready(), { code: 'READY_TIMEOUT' })
  await managed.stop()
})

t.test('a command that does not exist is reported, and stop() still returns', async (t) => {
  const managed = launch({ name: 'ghost', command: '/nonexistent/peer-binary', args: [], readyLine: /READY/, readyTimeoutMs: 10_000 })
  await t.rejects(managed.ready(), { code: 'PROCESS_EXITED', message: /could not start/ })
  t.equal(await managed.stop(), null)
})

t.test('SIGKILL follows when SIGTERM is ignored for the grace period', async (t) => {
  const managed = launch({
    name: 'stubborn',
    command: node,
    args: ['-e', "process.on('SIGTERM', () => {}); console.log('READY'); setInterval(() => {}, 1000)"],
    readyLine: /READY/,
    readyTimeoutMs: 10_000,
    stopGraceMs: 100,
  })
  await managed.ready()
  t.equal(await managed.stop(), null)
})
