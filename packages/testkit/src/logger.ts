export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** One call to a {@link RecordingLogger}: `logger.warn({ blogId }, 'msg')` is `{ level: 'warn', obj: { blogId }, msg: 'msg' }`. */
export interface LogEntry {
  level: LogLevel
  /** The structured fields (`{}` when only a message was logged). */
  obj: Record<string, unknown>
  /** The message (`''` when none was given). */
  msg: string
}

type LogFn = (objOrMsg: unknown, msg?: string) => void

/** A logger (the shape every package's `Logger` has) that keeps what it is told, for assertions. */
export interface RecordingLogger {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  /** Every call, oldest first. */
  entries: LogEntry[]
  /** The messages logged, at one level or at all. */
  messages(level?: LogLevel): string[]
}

export function recordingLogger(): RecordingLogger {
  const entries: LogEntry[] = []
  const at =
    (level: LogLevel): LogFn =>
    (objOrMsg, msg) => {
      if (typeof objOrMsg === 'string') entries.push({ level, obj: {}, msg: objOrMsg })
      else entries.push({ level, obj: (objOrMsg ?? {}) as Record<string, unknown>, msg: msg ?? '' })
    }
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) => entries.filter((entry) => !level || entry.level === level).map((entry) => entry.msg),
  }
}
