/**
 * `DATETIME` values as a raw statement returns them. Every connection runs in UTC (see
 * `createDatabase`), and a raw statement executed through drizzle (`db.execute`) returns a
 * `DATETIME` as its text, `YYYY-MM-DD HH:MM:SS[.ffffff]`: that text is a UTC time. `new Date(text)`
 * would read it in the process's own time zone, so these read it as UTC, whatever `TZ` says.
 */

/** Epoch milliseconds of a `DATETIME` from a raw statement (its UTC text, or a Date). */
export function dateTimeMs(value: string | Date): number {
  if (typeof value !== 'string') return value.getTime()
  return Date.parse(isoText(value))
}

/**
 * The ISO 8601 form (`…T…Z`, milliseconds) of a `DATETIME` from a raw statement, as
 * `Date#toISOString` writes it. The usual shapes are rewritten as text, without parsing a date.
 */
export function dateTimeIso(value: string | Date): string {
  if (typeof value !== 'string') return value.toISOString()
  // `YYYY-MM-DD HH:MM:SS` (19), with 3 (23) or 6 (26) digits of fraction.
  if (value.length === 23 || value.length === 26) return `${value.slice(0, 10)}T${value.slice(11, 23)}Z`
  if (value.length === 19) return `${value.slice(0, 10)}T${value.slice(11)}.000Z`
  return new Date(Date.parse(isoText(value))).toISOString()
}

function isoText(value: string): string {
  return value.endsWith('Z') ? value : `${value.replace(' ', 'T')}Z`
}
