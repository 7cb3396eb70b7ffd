#!/usr/bin/env node
import { runCli } from '@jetmon/config'
import { jetmon2 } from './main.js'

process.exit(await runCli(jetmon2, process.argv.slice(2)))
