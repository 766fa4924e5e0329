// The peer transport benchmark lives beside the net tests; see BENCHMARKS.md.
export { main } from '../test/net/bench/net.js'
