type LogFn = {
  (obj: object, msg?: string): void
  (msg: string): void
}

/** The subset of pino's logger this package uses; pass a pino logger (or a child) or nothing. */
export interface Logger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
}

const noop = () => {}
export const noopLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
