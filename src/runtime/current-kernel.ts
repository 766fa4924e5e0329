// The thread kernel of the current thread. The main thread's kernel is thread
// 0 and is created on first use; a worker's is installed by its boot code.
import { isMainThread } from 'node:worker_threads'
import { ThreadKernel } from './thread-kernel.js'

let current: ThreadKernel | undefined

export function currentKernel(): ThreadKernel {
  if (!current) {
    if (!isMainThread) throw new Error('this worker was not started by a Troupe thread host')
    current = new ThreadKernel(0)
  }
  return current
}

export function installKernel(kernel: ThreadKernel): void {
  current = kernel
}
