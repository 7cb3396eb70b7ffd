/**
 * `jetmon2 site-tenants import`: upserts gateway tenant ↔ blog mappings (`jetmon_site_tenants`)
 * from CSV, all in one transaction. Any invalid row means nothing is written (exit 1): a partial
 * import of an ownership list would leave tenants seeing some of their sites and not others.
 */
import { createReadStream } from 'node:fs'
import { importSiteTenants } from '@jetmon/db'
import { defineCommand } from 'citty'
import { withAdminDatabase } from '../_admin-database.js'
import { cliSource, MAX_ID, toId } from '../_args.js'
import { type CsvRecord, csvRecords } from '../_csv.js'
import { outputArg, outputFormat, print, printJson } from '../_output.js'
import { configArg } from '../command-config.js'
import { CommandError } from '../errors.js'

/** A valid mapping from the file, with the line it came from. */
interface TenantRow {
  line: number
  tenantId: string
  blogId: bigint
  source: string
}

interface InvalidRow {
  line: number
  message: string
}

/** The outcome of an import (or of a dry run: what would happen). */
interface ImportSummary {
  file: string
  dry_run: boolean
  /** Whether the transaction committed. */
  written: boolean
  /** Data rows read (header and blank lines not counted). */
  rows: number
  inserted: number
  /** Mappings that existed with another `source`. */
  updated: number
  unchanged: number
  /** Rows that repeat an earlier row of the file exactly; imported once. */
  duplicates: number
  invalid_rows: number
  /** The first {@link MAX_LISTED_INVALID} invalid rows, in file order. */
  invalid: InvalidRow[]
}

const COLUMNS = ['tenant_id', 'blog_id', 'source'] as const
type Column = (typeof COLUMNS)[number]
const DEFAULT_SOURCE = 'gateway'
const MAX_LISTED_INVALID = 1000
const TABLE_LISTED_INVALID = 50
/** From this many rows on, progress goes to stderr. */
const LARGE = 10_000
const CONTROL = /\p{Cc}/u

/** The header row: where each column is, or what is wrong with it. */
function readHeader(record: CsvRecord): { index: Record<Column, number | undefined> } | { problem: string } {
  const names = record.fields.map((name) => name.trim().toLowerCase())
  const expected = 'expected the header tenant_id,blog_id or tenant_id,blog_id,source'
  const unknown = names.find((name) => !(COLUMNS as readonly string[]).includes(name))
  if (unknown !== undefined) return { problem: `${expected}, got ${JSON.stringify(record.fields.join(','))}` }
  const repeated = names.find((name, i) => names.indexOf(name) !== i)
  if (repeated !== undefined) return { problem: `column ${repeated} appears twice in the header` }
  if (!names.includes('tenant_id') || !names.includes('blog_id')) {
    return { problem: `${expected}, got ${JSON.stringify(record.fields.join(','))}` }
  }
  const at = (column: Column) => (names.includes(column) ? names.indexOf(column) : undefined)
  return { index: { tenant_id: at('tenant_id'), blog_id: at('blog_id'), source: at('source') } }
}

/** One data row as a mapping, or the first problem with it (`column: message`). */
function readRow(
  record: CsvRecord,
  index: Record<Column, number | undefined>,
  width: number,
): TenantRow | { problem: string } {
  if (record.error) return { problem: record.error }
  if (record.fields.length !== width) {
    return { problem: `expected ${width} fields like the header, got ${record.fields.length}` }
  }
  const field = (column: Column) => {
    const at = index[column]
    return at === undefined ? '' : (record.fields[at] ?? '').trim()
  }
  const tenantId = field('tenant_id')
  if (tenantId === '' || [...tenantId].length > 128 || CONTROL.test(tenantId)) {
    return { problem: `tenant_id: expected 1–128 printable characters, got ${JSON.stringify(tenantId)}` }
  }
  const blogId = toId(field('blog_id'))
  if (blogId === null) {
    return { problem: `blog_id: expected a whole number from 1 to ${MAX_ID}, got ${JSON.stringify(field('blog_id'))}` }
  }
  const source = field('source') || DEFAULT_SOURCE
  if ([...source].length > 64 || CONTROL.test(source)) {
    return { problem: `source: expected at most 64 printable characters, got ${JSON.stringify(source)}` }
  }
  return { line: record.line, tenantId, blogId, source }
}

/** Progress lines on stderr for large imports: rewritten in place on a terminal, every 10% otherwise. */
function progressReporter(label: string, total: number): (done: number) => void {
  if (total < LARGE) return () => {}
  const tty = process.stderr.isTTY === true
  let nextStep = 0.1
  return (done) => {
    const line = `site-tenants: ${label} ${done}/${total} rows (${Math.floor((done / total) * 100)}%)`
    if (tty) {
      process.stderr.write(`\r${line}${done === total ? '\n' : ''}`)
    } else if (done === total || done / total >= nextStep) {
      process.stderr.write(`${line}\n`)
      while (nextStep <= done / total) nextStep += 0.1
    }
  }
}

/** Reads and checks the whole file; nothing touches the database yet. */
async function readMappings(chunks: AsyncIterable<string>, name: string) {
  const rows: TenantRow[] = []
  const invalid: InvalidRow[] = []
  let invalidCount = 0
  let total = 0
  let duplicates = 0
  let header: { index: Record<Column, number | undefined>; width: number } | null = null
  // Tenant ids compare case-insensitively in the database's default collation, so the file's
  // duplicate check does too.
  const seen = new Map<string, TenantRow>()
  const reject = (line: number, message: string) => {
    invalidCount++
    if (invalid.length < MAX_LISTED_INVALID) invalid.push({ line, message })
  }
  for await (const record of csvRecords(chunks)) {
    if (!header) {
      const parsed = readHeader(record)
      if ('problem' in parsed) throw new CommandError(`${name}:${record.line}: ${parsed.problem}`)
      header = { index: parsed.index, width: record.fields.length }
      continue
    }
    total++
    if (total % 100_000 === 0) process.stderr.write(`site-tenants: read ${total} rows…\n`)
    const row = readRow(record, header.index, header.width)
    if ('problem' in row) {
      reject(record.line, row.problem)
      continue
    }
    const key = `${row.tenantId.toLowerCase()}\u0000${row.blogId}`
    const earlier = seen.get(key)
    if (earlier === undefined) {
      seen.set(key, row)
      rows.push(row)
    } else if (earlier.source === row.source) {
      duplicates++
    } else {
      reject(
        row.line,
        `tenant ${row.tenantId} and blog ${row.blogId} already appear on line ${earlier.line} with source ` +
          `${JSON.stringify(earlier.source)}; a mapping has one source`,
      )
    }
  }
  if (!header) throw new CommandError(`${name}: the file is empty; expected a header tenant_id,blog_id[,source]`)
  return { rows, invalid, invalidCount, total, duplicates }
}

function printSummary(summary: ImportSummary): void {
  const would = summary.dry_run || summary.invalid_rows > 0 ? 'would be ' : ''
  print(`site-tenants import from ${summary.file}: ${summary.rows} row(s)${summary.dry_run ? ' (dry run)' : ''}`)
  const lines: [string, number, string][] = [
    [`${would}inserted`, summary.inserted, ''],
    [`${would}updated`, summary.updated, 'existing mapping, new source'],
    ['unchanged', summary.unchanged, 'already mapped'],
    ['duplicate', summary.duplicates, 'repeated in the file; imported once'],
    ['invalid', summary.invalid_rows, ''],
  ]
  const width = Math.max(...lines.map(([label]) => label.length))
  for (const [label, count, note] of lines) {
    print(`  ${label.padEnd(width)}  ${String(count).padStart(7)}${note && count ? `  (${note})` : ''}`.trimEnd())
  }
  if (summary.invalid_rows > 0) {
    print('\nInvalid rows:')
    for (const row of summary.invalid.slice(0, TABLE_LISTED_INVALID))
      print(`  ${summary.file}:${row.line}: ${row.message}`)
    const more = summary.invalid_rows - Math.min(summary.invalid.length, TABLE_LISTED_INVALID)
    if (more > 0) print(`  … and ${more} more (--output json lists the first ${MAX_LISTED_INVALID})`)
  }
  if (summary.written) print('\nCommitted.')
  else if (summary.invalid_rows > 0) print('\nNothing was written: fix the invalid rows and run again.')
  else if (summary.dry_run) print('\nNothing was written (dry run).')
  else print('\nNothing to change: every mapping is already in place.')
}

const importCommand = defineCommand({
  meta: {
    name: 'import',
    description: 'Upsert tenant ↔ blog mappings from CSV (header tenant_id,blog_id[,source]) in one transaction',
  },
  args: {
    file: { type: 'string', required: true, valueHint: 'csv|-', description: 'CSV file to import, or - for stdin' },
    'dry-run': { type: 'boolean', description: 'Check the file and report what would change; write nothing' },
    ...outputArg,
    ...configArg,
  },
  async run({ args }) {
    const format = outputFormat(args)
    const fromStdin = args.file === '-'
    const name = fromStdin ? 'stdin' : args.file
    const dryRun = args['dry-run'] === true
    let chunks: AsyncIterable<string>
    if (fromStdin) {
      if (process.stdin.isTTY) process.stderr.write('Reading CSV from stdin (end with Ctrl-D)…\n')
      process.stdin.setEncoding('utf8')
      chunks = process.stdin
    } else {
      chunks = createReadStream(args.file, { encoding: 'utf8' })
    }
    const read = await readMappings(chunks, name).catch((error: NodeJS.ErrnoException) => {
      if (error instanceof CommandError) throw error
      const why =
        error.code === 'ENOENT' ? 'no such file' : error.code === 'EACCES' ? 'permission denied' : error.message
      throw new CommandError(`${name}: cannot read the file: ${why}`, { cause: error })
    })
    const write = !dryRun && read.invalidCount === 0
    const source = cliSource()
    const counts =
      read.rows.length === 0
        ? { inserted: 0, updated: 0, unchanged: 0 }
        : await withAdminDatabase(args, (db) =>
            importSiteTenants({
              ctx: { db },
              mappings: read.rows,
              write,
              actor: source,
              audit: { file: name, rows: read.total, duplicates: read.duplicates },
              onProgress: progressReporter(write ? 'imported' : 'checked', read.rows.length),
            }),
          )
    const summary: ImportSummary = {
      file: name,
      dry_run: dryRun,
      written: write && counts.inserted + counts.updated > 0,
      rows: read.total,
      ...counts,
      duplicates: read.duplicates,
      invalid_rows: read.invalidCount,
      invalid: read.invalid,
    }
    if (format === 'json') printJson(summary)
    else printSummary(summary)
    if (read.invalidCount > 0) {
      throw new CommandError(`${read.invalidCount} invalid row(s) in ${name}; nothing was written`)
    }
  },
})

export default defineCommand({
  meta: { name: 'site-tenants', description: 'Manage gateway tenant ↔ blog mappings' },
  subCommands: { import: importCommand },
})
