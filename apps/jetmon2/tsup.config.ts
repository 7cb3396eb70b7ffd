import { defineConfig } from 'tsup'
import { internal } from '../../tsup.base.ts'

// Split chunks: each subcommand is imported when it runs, so `jetmon2 keys list` does not load
// the monitor, the API server and the dashboard before doing its one query.
export default defineConfig({ ...internal, entry: ['src/index.ts', 'src/cli.ts'], splitting: true })
