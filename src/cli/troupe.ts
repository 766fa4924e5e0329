// The executable entry: `bin/troupe` loads this file. A stopped node leaves
// nothing that should keep the process alive; exit explicitly so that a
// forgotten handle can never hold a shutdown past the contract's 10 s.
import { main } from './main.js'

const code = await main(process.argv.slice(2))
process.exit(code)
