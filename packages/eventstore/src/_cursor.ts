import { InvalidCursorError } from './errors.js'

/**
 * Cursors are opaque to callers: base64url of a small JSON array tagged with the list it belongs
 * to, so a cursor of one list handed to another is rejected rather than misread.
 */
export function encodeCursor(kind: string, parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...parts])).toString('base64url')
}

/** The parts of a cursor of `kind`, as strings, or an `InvalidCursorError`. */
export function decodeCursor(kind: string, cursor: string, arity: number): string[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch (error) {
    throw new InvalidCursorError(undefined, { cause: error })
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== arity + 1 ||
    parsed[0] !== kind ||
    !parsed.every((part) => typeof part === 'string' || typeof part === 'number')
  ) {
    throw new InvalidCursorError()
  }
  return parsed.slice(1).map(String)
}

/** Largest value of a BIGINT UNSIGNED id. */
const MAX_ID = 18_446_744_073_709_551_615n
/** Latest instant a DATETIME column holds (end of year 9999), in ms since 1970. */
const MAX_MS = 253_402_300_799_999

/** An id part: decimal digits within BIGINT UNSIGNED, or an `InvalidCursorError`. */
export function cursorBigint(value: string | undefined): bigint {
  if (value === undefined || !/^\d{1,20}$/.test(value) || BigInt(value) > MAX_ID) throw new InvalidCursorError()
  return BigInt(value)
}

/** A time part: whole ms from 1970 to the end of year 9999, or an `InvalidCursorError`. */
export function cursorDate(value: string | undefined): Date {
  const ms = Number(value)
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(ms) || ms > MAX_MS) {
    throw new InvalidCursorError()
  }
  return new Date(ms)
}
