// The command runner's error and exit codes are shared by every Jetmon binary.
export { CommandError, EXIT } from '@jetmon/config'

/** The checker settings of a configuration cannot be used (an unreadable `CA_FILE`, a CA that is not PEM). */
export class CheckerSetupError extends Error {
  readonly code = 'CHECKER_SETUP' as const
  /** The config key at fault, for a `path: message` line. */
  readonly path: string
  constructor(path: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'CheckerSetupError'
    this.path = path
  }
}

/** The TLS settings cannot be used: `TLS_CERT_FILE`/`TLS_KEY_FILE` unreadable, not PEM, or not a pair. */
export class TlsSetupError extends Error {
  readonly code = 'TLS_SETUP' as const
  /** The config key at fault, for a `path: message` line. */
  readonly path: string
  constructor(path: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'TlsSetupError'
    this.path = path
  }
}
