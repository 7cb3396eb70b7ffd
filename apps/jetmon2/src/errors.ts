// The command runner's error and exit codes are shared by every Jetmon binary.
export { CommandError, EXIT } from '@jetmon/config'
