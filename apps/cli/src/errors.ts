/** Stable codes of {@link LocalConfigError} (`err.code`). */
export type LocalConfigErrorCode =
  /** `set`/`unset` of a key that does not exist. Usage error. */
  | 'UNKNOWN_KEY'
  /** A flag, environment variable or `set` value that does not fit its key. Usage error. */
  | 'INVALID_VALUE'
  /** Both a token and a token file at the same level (two flags, two variables, or both keys in the file). Usage error. */
  | 'CONFLICTING_SETTINGS'
  /** The config file is not valid JSON, not an object, or holds a value of the wrong type. */
  | 'INVALID_FILE'
  /** A config file that holds a token, or a token file, that other users may read (not mode 0600). */
  | 'INSECURE_PERMISSIONS'
  /** The config file or the token file cannot be read (missing token file, no permission, empty). */
  | 'UNREADABLE'
  /** `init` without `--force` over an existing file. */
  | 'FILE_EXISTS'
  /** A write while `JETMON_API_CONFIG=off`. */
  | 'FILE_DISABLED'

const USAGE_CODES: ReadonlySet<LocalConfigErrorCode> = new Set(['UNKNOWN_KEY', 'INVALID_VALUE', 'CONFLICTING_SETTINGS'])

/**
 * A problem with the connection settings: the local config file, a token file, the environment or
 * the flags. The message is written for an operator (`path: what is wrong, what to do`).
 */
export class LocalConfigError extends Error {
  override readonly name = 'LocalConfigError'
  readonly code: LocalConfigErrorCode
  /** The file, key, variable or flag the problem is about. */
  readonly path: string

  constructor(code: LocalConfigErrorCode, path: string, message: string, options: { cause?: unknown } = {}) {
    super(`${path}: ${message}`, options)
    this.code = code
    this.path = path
  }

  /** Whether the way the command was called is at fault (exit 2) rather than the state of a file (exit 1). */
  get isUsageError(): boolean {
    return USAGE_CODES.has(this.code)
  }
}

// The usage error every command throws is @jetmon/config's, the one `runCli` knows.
export { UsageError } from '@jetmon/config'
