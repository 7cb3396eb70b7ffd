export { CommandError, EXIT } from './errors.js'
export { jetmon2 } from './main.js'
export { runCli } from './run.js'
