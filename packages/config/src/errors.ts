/**
 * Thrown when a schema handed to the loader cannot describe a configuration file (for example it
 * is not an object schema). This is a bug in the calling code, never a problem with the operator's
 * file: those are returned as issues.
 */
export class ConfigSchemaError extends Error {
  readonly code = 'CONFIG_SCHEMA_INVALID'
  override readonly name = 'ConfigSchemaError'
}
