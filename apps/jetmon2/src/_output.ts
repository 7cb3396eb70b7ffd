/**
 * Output of the local admin commands: `--output table|json` (table on a terminal, JSON otherwise,
 * as in `jetmon2 api …`), aligned tables, and JSON that keeps ids beyond 2^53 exact.
 */
import { usageError } from './_args.js'

export type OutputFormat = 'table' | 'json'

/** `--output`, on every admin command that prints data. */
export const outputArg = {
  output: {
    type: 'string',
    valueHint: 'table|json',
    description: 'table (default on a terminal) or json (default otherwise)',
  },
} as const

/** The `--output` format: the flag when given, else table on a terminal and JSON in a pipe. */
export function outputFormat(args: { output?: string | undefined }): OutputFormat {
  if (args.output === undefined || args.output === '') return process.stdout.isTTY ? 'table' : 'json'
  if (args.output === 'table' || args.output === 'json') return args.output
  throw usageError('--output', `expected table or json, got ${JSON.stringify(args.output)}`)
}

/**
 * Rows as aligned columns under upper-case headings, two spaces apart; the last column is not
 * padded (no trailing blanks). Empty cells print as `-` so that columns stay readable with `awk`.
 */
export function formatTable(headings: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headings.map((h) => h.toUpperCase()), ...rows.map((row) => headings.map((_, i) => row[i] || '-'))]
  const widths = headings.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length)))
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

const TWO_POW_53 = 2n ** 53n

/** An id on the wire, as the REST API writes it: a number while exact, a decimal string beyond 2^53. */
export function jsonId(id: bigint): number | string {
  return id <= TWO_POW_53 ? Number(id) : id.toString()
}

/** A time for a table cell: UTC, to the second (`2025-01-31 12:00:00Z`). */
export function formatTime(at: Date | null | undefined, none = '-'): string {
  if (!at) return none
  return at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z')
}

/** Writes lines to stdout. */
export function print(text: string): void {
  process.stdout.write(`${text}\n`)
}

/** Writes one JSON document (one line) to stdout. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value))
}
