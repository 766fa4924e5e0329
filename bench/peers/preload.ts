// Untimed setup work done by `concurrency` callers: e.g. writing every key
// once before the timed GET window, so that every GET finds its key.

export async function runAll(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker))
}
