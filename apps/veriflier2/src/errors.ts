/**
 * An expected failure of a command (the configuration is invalid, the port is taken): the message
 * is printed as it is, for an operator, without a stack trace, and the process exits with `exitCode`.
 */
export class CommandError extends Error {
  readonly exitCode: number
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'CommandError'
    this.exitCode = options.exitCode ?? 1
  }
}

/** Exit codes shared by every subcommand: success, failure, usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

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
