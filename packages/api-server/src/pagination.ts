import { ApiError } from './errors.js'

export const DEFAULT_LIMIT = 50
export const MAX_LIMIT = 200

/** An opaque cursor: base64url of a small JSON array (the sort key of the last row served). */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** Largest id a cursor may name: BIGINT UNSIGNED. */
const MAX_ID = 18_446_744_073_709_551_615n
/** Latest instant a cursor may name: the end of year 9999, the last a DATETIME column holds. */
export const MAX_CURSOR_MS = 253_402_300_799_999

/**
 * Reads a cursor made by {@link encodeCursor}; `shape` names the kinds of its items: `ms` (a
 * whole number of milliseconds since 1970, up to the year 9999), `id` (a decimal BIGINT UNSIGNED
 * as a string) or `string`. A cursor that was not ours, was edited, or names a value outside its
 * column's range is 400 `invalid_request` on `query.cursor`; it never reaches the database.
 */
export function decodeCursor<const T extends readonly ('string' | 'ms' | 'id')[]>(
  cursor: string,
  shape: T,
): { [K in keyof T]: T[K] extends 'ms' ? Date : T[K] extends 'id' ? bigint : string } {
  const bad = () =>
    new ApiError(400, 'invalid_request', 'query.cursor: is not a cursor this API issued for this list', {
      details: [{ path: 'query.cursor', message: 'is not a cursor this API issued for this list' }],
    })
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw bad()
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw bad()
  return parsed.map((item, index) => {
    const kind = shape[index]
    if (kind === 'ms' && Number.isSafeInteger(item) && item >= 0 && item <= MAX_CURSOR_MS) return new Date(item)
    if (kind === 'string' && typeof item === 'string') return item
    if (kind === 'id' && typeof item === 'string' && /^\d{1,20}$/.test(item) && BigInt(item) <= MAX_ID) {
      return BigInt(item)
    }
    throw bad()
  }) as never
}

/**
 * Builds a page from `limit + 1` fetched rows: the extra row only says there is a next page,
 * whose cursor is the sort key of the last row served.
 */
export function pageOf<Row, Item>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => readonly (string | number)[],
): { data: Item[]; page: { next: string | null; limit: number } } {
  const served = rows.slice(0, limit)
  const last = served.at(-1)
  return {
    data: served.map(toItem),
    page: { next: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null, limit },
  }
}
