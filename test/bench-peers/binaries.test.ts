import { basename } from 'node:path'
import t from 'tap'
import { BINARIES, binaryVersion, findExecutable, installCommand, mayInstall } from '../../bench/peers/binaries.js'

t.test('findExecutable searches PATH and says undefined for what is not there', async (t) => {
  const found = findExecutable(basename(process.execPath), `/nonexistent:${process.execPath.slice(0, process.execPath.lastIndexOf('/'))}`)
  t.ok(found !== undefined && found.endsWith(basename(process.execPath)))
  t.equal(findExecutable('troupe-peers-no-such-binary', '/nonexistent'), undefined)
})

t.test('the install hint names each Debian package once', async (t) => {
  t.equal(installCommand([BINARIES.redis, BINARIES.nats, BINARIES.redis, BINARIES.etcd]), 'sudo apt-get install -y redis-server nats-server etcd-server')
})

t.test('the bench installs by itself only with --install or as root', async (t) => {
  t.equal(mayInstall(false, false), false)
  t.equal(mayInstall(true, false), true)
  t.equal(mayInstall(false, true), true)
})

t.test('binaryVersion reads the x.y.z a binary prints for --version', async (t) => {
  t.equal(binaryVersion(process.execPath), `${basename(process.execPath)} ${process.versions.node}`)
})
