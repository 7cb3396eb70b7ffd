#!/usr/bin/env node
import { relaunchTuned } from './runtime.js'

const argv = process.argv.slice(2)
// `jetmon2 serve` re-executes itself with a checking process's runtime settings before it loads
// anything else (serve's own call covers other spellings of the command line).
if (argv[0] === 'serve') relaunchTuned()
const { runCli } = await import('@jetmon/config')
const { jetmon2 } = await import('./main.js')
// `jetmon2 api` takes its connection flags before or after the subcommand.
const words = argv[0] === 'api' ? await (await import('@jetmon/cli')).prepareCommandLine(argv) : argv
process.exit(await runCli(jetmon2, words))
