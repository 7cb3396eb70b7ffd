#!/usr/bin/env node
import { runCli } from '@jetmon/config'
import { veriflier2 } from './main.js'

process.exit(await runCli(veriflier2, process.argv.slice(2)))
