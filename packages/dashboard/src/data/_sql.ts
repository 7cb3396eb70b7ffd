/** Small helpers for the hand-written parts of the dashboard's statements. */
import { dateTimeMs } from '@jetmon/db'
import { NOT_DOWNTIME_CODES } from '@jetmon/history'
import { type SQL, sql } from 'drizzle-orm'

/**
 * A DATETIME literal (`'2025-11-23 02:07:05.123'`) built from a Date: digits only, so it is safe to
 * inline. Inlined rather than bound where the same expression appears in SELECT and GROUP BY (a
 * placeholder in each would be two different expressions to the server).
 */
export function datetimeLiteral(at: Date): SQL {
  const iso = at.toISOString()
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(iso)) throw new RangeError(`not a datetime: ${iso}`)
  return sql.raw(`'${iso.slice(0, 10)} ${iso.slice(11, 23)}'`)
}

/** An integer literal (bucket sizes), checked. */
export function intLiteral(n: number): SQL {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`)
  return sql.raw(String(n))
}

/** The error codes that are not downtime, as an SQL list: `0, 7, 99`. */
export const NOT_DOWNTIME_LIST = sql.raw(NOT_DOWNTIME_CODES.join(', '))

/** A number from a driver value (DECIMAL and SUM arrive as strings); null stays null. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null
  const n = typeof value === 'number' ? value : Number(value)
  return Number.isFinite(n) ? n : null
}

/** An id from a driver value (numbers up to 2^53, decimal strings beyond). */
export function toBigint(value: unknown): bigint {
  if (typeof value === 'bigint') return value
  return BigInt(String(value))
}

/** A Date from a driver value. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value
  const d = new Date(typeof value === 'string' ? dateTimeMs(value) : String(value))
  return Number.isNaN(d.getTime()) ? null : d
}

/** Splits a list for `IN (…)` clauses of bounded size. */
export function chunked<T>(items: readonly T[], size = 1000): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
