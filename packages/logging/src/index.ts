import pino, { type Logger, type LoggerOptions } from 'pino'
import pretty from 'pino-pretty'
import { safeErrorMessage, serializeError } from './serialize-error.js'

export type { Logger } from 'pino'
export { safeErrorMessage, serializeError } from './serialize-error.js'

/**
 * Keys whose values never reach a log line, wherever they appear in the first three levels of a
 * logged object (pino's redaction matches paths, so each depth is listed).
 */
export const SECRET_KEYS = [
  'token',
  'password',
  'secret',
  'authorization',
  'cookie',
  'api_key',
  'x-api-key',
  'AUTH_TOKEN',
  'DB_PASSWORD',
  'SMTP_PASSWORD',
  'WPCOM_EMAIL_TOKEN',
  'SECRETS_KEY',
  'VERIFLIER_TOKENS',
  'DATABASE_URL',
  'databaseUrl',
  'custom_headers',
  'customHeaders',
]

function redactionPaths(): string[] {
  const paths: string[] = []
  for (const key of SECRET_KEYS) {
    const segment = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `["${key}"]`
    const join = (prefix: string) => (segment.startsWith('[') ? `${prefix}${segment}` : `${prefix}.${segment}`)
    paths.push(segment.startsWith('[') ? `${segment}` : key, join('*'), join('*.*'))
  }
  return paths
}

/** Keeps a URL's shape (useful when debugging) but never its password. */
function censor(value: unknown): string {
  if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      const url = new URL(value)
      if (url.password) {
        url.password = '[redacted]'
        return url.toString()
      }
    } catch {
      // not a URL after all
    }
  }
  return '[redacted]'
}

export interface CreateLoggerOptions {
  level?: string
  /** `json` (one object per line) or `pretty` (colours, for a person at a terminal); default: pretty on a TTY. */
  format?: 'json' | 'pretty'
  name?: string
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream
  base?: Record<string, unknown>
}

/** The root logger of an app; libraries get `logger.child({ module })`. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout
  const format = options.format ?? ((destination as NodeJS.WriteStream).isTTY ? 'pretty' : 'json')
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    ...(options.name ? { name: options.name } : {}),
    base: { pid: process.pid, ...options.base },
    redact: { paths: redactionPaths(), censor },
    // Errors lose the values of a failed statement (drizzle's `params`, the driver's `sql`).
    serializers: { err: serializeError, error: serializeError },
    hooks: {
      // pino makes an error's own message the line's `msg` when none is given: use the safe one.
      logMethod(args, method) {
        const [first, second] = args as unknown[]
        const error = first instanceof Error ? first : (first as { err?: unknown } | null)?.err
        if (error instanceof Error && typeof second !== 'string') {
          return method.apply(this, [first as object, safeErrorMessage(error), ...(args.slice(1) as [])])
        }
        return method.apply(this, args)
      },
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  if (format === 'pretty') {
    return pino(
      config,
      pretty({
        destination,
        sync: true,
        colorize: (destination as NodeJS.WriteStream).isTTY ?? false,
        ignore: 'pid,hostname',
      }),
    )
  }
  return pino(config, destination)
}
