/**
 * Output of the local admin commands: `--output table|json` (table on a terminal, JSON otherwise,
 * as in `jetmon2 api …`), aligned tables, and JSON that keeps ids beyond 2^53 exact.
 */
import { jsonId } from '@jetmon/api-client'
import { formatTable } from '@jetmon/cli'
import { usageError } from './_args.js'

export { formatTable, jsonId }

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
