import { defineCommand } from 'citty'
import serve from './commands/serve.js'
import validateConfig from './commands/validate-config.js'
import { VERSION } from './version.js'

/** The `veriflier2` command tree. Every subcommand is explicit: an unknown one is a usage error. */
export const veriflier2 = defineCommand({
  meta: {
    name: 'veriflier2',
    version: VERSION,
    description: 'Jetmon 2 veriflier: re-runs checks from this region to confirm or refute an outage',
  },
  subCommands: {
    serve,
    'validate-config': validateConfig,
    version: defineCommand({
      meta: { name: 'version', description: 'Print the version' },
      run() {
        process.stdout.write(`veriflier2 ${VERSION}\n`)
      },
    }),
  },
})
