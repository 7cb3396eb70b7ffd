type LogFn = {
  (obj: object, msg?: string): void
  (msg: string): void
}

/** The subset of pino's logger the libraries use; pass a pino logger (or a child) or nothing. */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}

const noop = () => {}

/** A logger that drops everything: the default when a caller passes none. */
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
