#!/usr/bin/env node
import { jetmon2 } from './main.js'
import { runCli } from './run.js'

process.exit(await runCli(jetmon2, process.argv.slice(2)))
