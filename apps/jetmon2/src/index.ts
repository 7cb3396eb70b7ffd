export { runCli } from '@jetmon/config'
export { CommandError, EXIT } from './errors.js'
export { jetmon2 } from './main.js'
