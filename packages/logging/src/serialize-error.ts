/**
 * The `err` serializer of the root logger. A failed database statement arrives as drizzle's
 * `DrizzleQueryError`, whose message, stack and `params` repeat every bound value (webhook secrets,
 * alert destinations, custom header values, tokens' hashes), and the driver's error may carry the
 * statement with its values inlined (`sql`). The serialized error keeps what an operator needs —
 * type, the statement with its placeholders, the driver's code, errno, SQL state and message, the
 * stack frames, the cause chain — and drops every parameter.
 */

/** Properties that hold a statement's values: never logged. */
const DROPPED = new Set(['params', 'parameters', 'values', 'sql'])
/** Properties serialized on their own, not copied. */
const HANDLED = new Set(['message', 'stack', 'cause', 'name'])
const MAX_CAUSES = 5

type Serialized = Record<string, unknown>

function isError(value: unknown): value is Error {
  return (
    value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value && 'stack' in value)
  )
}

/** The message without the parameters drizzle appends (`…\nparams: a,b,c`) or a driver quotes. */
export function safeErrorMessage(error: Error): string {
  const record = error as unknown as Record<string, unknown>
  let message = String(error.message ?? '')
  if (typeof record.query === 'string' && 'params' in record) message = `Failed query: ${record.query}`
  const cut = message.indexOf('\nparams:')
  if (cut >= 0) message = message.slice(0, cut)
  // MySQL quotes the offending value in some messages: "Duplicate entry 'x' for key …",
  // "Incorrect datetime value: 'x' for column …".
  return message.replace(/\b(entry|value:?) '(?:[^'\\]|\\.|'')*'/gi, "$1 '[redacted]'")
}

/** The stack frames under a first line rebuilt from the safe message. */
function safeStack(error: Error, type: string, message: string): string | undefined {
  if (typeof error.stack !== 'string') return undefined
  const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line))
  return [`${type}: ${message}`, ...frames].join('\n')
}

function serialize(error: Error, depth: number): Serialized {
  const type = error.constructor?.name && error.constructor.name !== 'Object' ? error.constructor.name : error.name
  const message = safeErrorMessage(error)
  const out: Serialized = { type, message }
  for (const [key, value] of Object.entries(error)) {
    if (DROPPED.has(key) || HANDLED.has(key) || value === undefined) continue
    if (typeof value === 'string')
      out[key] = key === 'sqlMessage' ? safeErrorMessage({ message: value } as Error) : value
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      out[key] = typeof value === 'bigint' ? value.toString() : value
    }
    // Objects and arrays are not copied: they are where bound values and request bodies hide.
  }
  const stack = safeStack(error, type, message)
  if (stack !== undefined) out.stack = stack
  const cause = (error as { cause?: unknown }).cause
  if (cause !== undefined) {
    out.cause =
      depth >= MAX_CAUSES
        ? '[more causes]'
        : isError(cause)
          ? serialize(cause, depth + 1)
          : typeof cause === 'object'
            ? '[object]'
            : cause
  }
  return out
}

/** Serializes an error for a log line without the values of a failed statement; anything else is returned as is. */
export function serializeError(value: unknown): unknown {
  return isError(value) ? serialize(value, 0) : value
}
