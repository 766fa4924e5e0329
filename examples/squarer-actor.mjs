// An actor definition for a worker thread: a function of the spawn's args
// that returns the actor factory.
export function squarer() {
  return () => ({ receive: (n) => n * n })
}
