/**
 * Thrown when a schema handed to the loader cannot describe a configuration file (for example it
 * is not an object schema). This is a bug in the calling code, never a problem with the operator's
 * file: those are returned as issues.
 */
export class ConfigSchemaError extends Error {
  readonly code = 'CONFIG_SCHEMA_INVALID'
  override readonly name = 'ConfigSchemaError'
}

/**
 * A usage error on its way to `runCli`: `EARG` is citty's own code for a bad argument, so
 * the runner prints the command's help and the message, and exits 2. Every binary's commands
 * throw this one class.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  readonly code = 'EARG'
}
