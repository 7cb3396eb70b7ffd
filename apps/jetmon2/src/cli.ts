#!/usr/bin/env node
import { runCli } from '@jetmon/config'
import { jetmon2 } from './main.js'

const argv = process.argv.slice(2)
// `jetmon2 api` takes its connection flags before or after the subcommand.
const words = argv[0] === 'api' ? await (await import('@jetmon/cli')).prepareCommandLine(argv) : argv
process.exit(await runCli(jetmon2, words))
