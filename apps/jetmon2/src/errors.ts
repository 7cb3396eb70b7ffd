/**
 * An expected failure of a command (the database is unreachable, a migration failed): the message
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

/** Exit codes shared by every subcommand. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const
