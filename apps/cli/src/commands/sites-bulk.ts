/**
 * `sites bulk-add` and `sites export`: many sites at once, from and to JSON or CSV. The columns are
 * the fields of `POST /sites` (`sites.create` in the contract), so an export is a valid bulk-add
 * input and a bulk-add checks every row with the route's own schema before sending it.
 */
import { createHash } from 'node:crypto'
import { extname } from 'node:path'
import { JetmonApiError, JetmonTransportError, type RouteId } from '@jetmon/api-client'
import { CommandError } from '@jetmon/config'
import { defineApiCommand, note } from '../_command.js'
import { CsvError, formatCsv, parseCsv } from '../_csv.js'
import { readInput } from '../_input.js'
import { createProgress } from '../_progress.js'
import { allPages } from '../_route-command.js'
import { checkSchema, type FieldInfo, objectFields, type SchemaNode, valueFromText } from '../_schema.js'
import { requireRoute, type Session } from '../_session.js'
import { UsageError } from '../errors.js'
import { formatJson, formatTable } from '../output.js'
import { print } from './_shared.js'

const CREATE = 'sites.create' satisfies RouteId

/** The fields of a bulk row: the body of `POST /sites`. */
function createFields(): FieldInfo[] {
  return objectFields(requireRoute(CREATE).body as SchemaNode)
}

/** A batch name: it goes into request ids and idempotency keys, so it keeps to their alphabet. */
export function checkBatchName(batch: string | undefined): string | undefined {
  if (batch === undefined) return undefined
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(batch))
    throw new UsageError(`--batch: must be 1–64 letters, digits, ".", "_" or "-", got ${JSON.stringify(batch)}`)
  return batch
}

/** One input row, before and after checking. */
export interface BulkRow {
  /** 1-based position among the data rows. */
  row: number
  /** CSV: the line it starts on. */
  line?: number
  body: Record<string, unknown>
  /** Problems found before sending (a cell that is not a number, a field the schema refuses). */
  problems: string[]
}

export type BulkFormat = 'json' | 'csv'

/** JSON (`[...]` or a list answer `{"data": [...]}`) or CSV by `--format`, the file name, or the first character. */
export function detectFormat(text: string, file: string, format: string | undefined): BulkFormat {
  if (format === 'json' || format === 'csv') return format
  const extension = extname(file).toLowerCase()
  if (extension === '.csv') return 'csv'
  if (extension === '.json') return 'json'
  return /^\s*[[{]/.test(text) ? 'json' : 'csv'
}

/** Reads the rows of a bulk-add input. A file that is not JSON/CSV at all, or a CSV with an unknown column, is a usage error. */
export function parseRows(text: string, format: BulkFormat, fields: FieldInfo[]): BulkRow[] {
  if (format === 'json') {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new UsageError(`--file: not valid JSON (${(error as Error).message})`)
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { data?: unknown })?.data
    if (!Array.isArray(list)) throw new UsageError('--file: JSON input must be an array of sites (or {"data": [...]})')
    return list.map((item, i) => {
      const isObject = typeof item === 'object' && item !== null && !Array.isArray(item)
      return {
        row: i + 1,
        body: isObject ? (item as Record<string, unknown>) : {},
        problems: isObject ? [] : ['must be an object of site fields'],
      }
    })
  }
  let records: ReturnType<typeof parseCsv>
  try {
    records = parseCsv(text)
  } catch (error) {
    if (error instanceof CsvError) throw new UsageError(`--file: ${error.message}`)
    throw error
  }
  const [header, ...data] = records
  if (!header)
    throw new UsageError('--file: the CSV is empty; its first line names the columns (blog_id,monitor_url,…)')
  const byName = new Map(fields.map((field) => [field.name, field]))
  const columns = header.cells.map((cell) => cell.trim())
  const unknown = columns.filter((column) => !byName.has(column))
  if (unknown.length > 0)
    throw new UsageError(
      `--file: unknown column(s) ${unknown.join(', ')}; the columns are the fields of POST /sites: ${fields.map((f) => f.name).join(', ')}`,
    )
  return data.map((record, i) => {
    const body: Record<string, unknown> = {}
    const problems: string[] = []
    if (record.cells.length > columns.length)
      problems.push(`has ${record.cells.length} cells, the header ${columns.length}`)
    columns.forEach((column, index) => {
      const cell = record.cells[index]
      // An empty cell is an absent field: the default on create.
      if (cell === undefined || cell.trim() === '') return
      try {
        body[column] = valueFromText(byName.get(column)!, cell, column)
      } catch (error) {
        problems.push((error as Error).message)
      }
    })
    return { row: i + 1, line: record.line, body, problems }
  })
}

/** Sorted keys, so the same site in another column order is the same row. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  return JSON.stringify(value)
}

/**
 * The row's Idempotency-Key: the batch and a hash of its content. Running the same file again
 * replays what was created instead of acting twice; a changed row is a new request.
 */
export function rowIdempotencyKey(body: Record<string, unknown>, batch: string | undefined): string {
  const hash = createHash('sha256').update(canonical(body)).digest('hex').slice(0, 40)
  return `jetmon2-bulk-add:${batch ?? '-'}:${hash}`
}

export type RowResult = 'created' | 'skipped' | 'failed' | 'would_create' | 'would_skip'

export interface RowOutcome {
  row: number
  line?: number
  blog_id: unknown
  monitor_url: unknown
  result: RowResult
  code: string | null
  message: string | null
  request_id: string | null
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Sends one row; waits out 429s (Retry-After) and in-progress idempotency claims, a few times. */
async function createRow(session: Session, row: BulkRow, batch: string | undefined): Promise<RowOutcome> {
  const base = {
    row: row.row,
    ...(row.line ? { line: row.line } : {}),
    blog_id: row.body.blog_id,
    monitor_url: row.body.monitor_url,
  }
  const idempotencyKey = rowIdempotencyKey(row.body, batch)
  const requestId = `bulk-add.${batch ?? 'nobatch'}.${idempotencyKey.slice(-12)}.${Date.now().toString(36)}`
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await session.call(CREATE, { body: row.body }, { idempotencyKey, requestId })
      return response.idempotencyReplayed
        ? {
            ...base,
            result: 'skipped',
            code: 'already_created',
            message: 'created by an earlier run with the same row (Idempotency-Key replay)',
            request_id: response.requestId,
          }
        : { ...base, result: 'created', code: null, message: null, request_id: response.requestId }
    } catch (error) {
      if (error instanceof JetmonApiError) {
        const waitSeconds =
          error.code === 'rate_limited'
            ? (error.retryAfterSeconds ?? 1)
            : error.code === 'idempotency_in_progress'
              ? 1
              : null
        if (waitSeconds !== null && attempt < 6) {
          await sleep(Math.min(60, waitSeconds) * 1000)
          continue
        }
        const details = (error.details ?? []).map((d) => `${d.path}: ${d.message}`).join('; ')
        return {
          ...base,
          result: error.code === 'site_exists' ? 'skipped' : 'failed',
          code: error.code,
          message: details ? `${error.message} (${details})` : error.message,
          request_id: error.requestId,
        }
      }
      if (error instanceof JetmonTransportError)
        return { ...base, result: 'failed', code: error.code, message: error.message, request_id: requestId }
      throw error
    }
  }
}

/** Dry run: what a create would do, from reads only (`GET /sites/{blog_id}`). */
async function predictRow(
  session: Session,
  row: BulkRow,
  sites: Map<string, Promise<string[] | null>>,
): Promise<RowOutcome> {
  const base = {
    row: row.row,
    ...(row.line ? { line: row.line } : {}),
    blog_id: row.body.blog_id,
    monitor_url: row.body.monitor_url,
  }
  const blog = String(row.body.blog_id)
  let urls = sites.get(blog)
  if (!urls) {
    urls = session
      .call('sites.get', { params: { blog_id: blog } })
      .then((response) =>
        ((response.data as { endpoints?: { monitor_url: string }[] }).endpoints ?? []).map((e) => e.monitor_url),
      )
      .catch((error: unknown) => {
        if (error instanceof JetmonApiError && error.code === 'site_not_found') return null
        throw error
      })
    sites.set(blog, urls)
  }
  const existing = await urls
  const url = String(row.body.monitor_url).trim()
  return existing?.includes(url)
    ? {
        ...base,
        result: 'would_skip',
        code: 'site_exists',
        message: 'the blog already monitors this URL',
        request_id: null,
      }
    : {
        ...base,
        result: 'would_create',
        code: null,
        message: existing ? 'adds an endpoint to an existing site' : null,
        request_id: null,
      }
}

/**
 * Runs the rows `concurrency` at a time, but the rows of one blog one after another, in file order:
 * a site's first row creates it and sets its primary endpoint (the lowest endpoint id), as in the
 * export the file may come from.
 */
async function forEachBlog<R>(
  rows: readonly BulkRow[],
  concurrency: number,
  work: (row: BulkRow) => Promise<R>,
  done: (result: R) => void,
) {
  const byBlog = new Map<string, BulkRow[]>()
  for (const row of rows) {
    const key = String(row.body.blog_id)
    const group = byBlog.get(key)
    if (group) group.push(row)
    else byBlog.set(key, [row])
  }
  const groups = [...byBlog.values()]
  let next = 0
  const worker = async () => {
    while (next < groups.length) {
      for (const row of groups[next++]!) done(await work(row))
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, worker))
}

const RESULTS: readonly RowResult[] = ['created', 'skipped', 'failed', 'would_create', 'would_skip']

export const bulkAdd = defineApiCommand({
  name: 'bulk-add',
  description: 'Create many sites from a JSON or CSV file (the columns of sites create); rows that exist are skipped',
  examples: [
    'jetmon2 api sites bulk-add --file sites.csv --dry-run',
    'jetmon2 api sites bulk-add --file sites.csv --batch migration-2026-05',
    'jetmon2 api sites export --url http://old:8090 | jetmon2 api sites bulk-add --file - --batch copy-1',
  ],
  routes: [CREATE, 'sites.get'],
  writes: true,
  args: {
    file: {
      type: 'string',
      required: true,
      valueHint: 'path|-',
      description: 'JSON (an array of sites) or CSV with a header line; - reads stdin',
    },
    format: {
      type: 'enum',
      options: ['json', 'csv'],
      description: 'Input format (default: by file name, else by content)',
    },
    'dry-run': { type: 'boolean', description: 'Check every row and tell what would happen; reads only, never writes' },
    batch: {
      type: 'string',
      valueHint: 'name',
      description: 'Marks this run in request ids and idempotency keys (required for a remote API)',
    },
    concurrency: {
      type: 'string',
      valueHint: 'n',
      description: 'Sites sent at once (default 4, at most 16); the rows of one site go in file order',
    },
  },
  async run({ args, session }) {
    const batch = checkBatchName(args.batch)
    const concurrency = args.concurrency === undefined ? 4 : Number(args.concurrency)
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16)
      throw new UsageError(
        `--concurrency: must be a whole number from 1 to 16, got ${JSON.stringify(args.concurrency)}`,
      )
    const dryRun = args['dry-run'] === true
    if (!dryRun) session.assertWritable('sites bulk-add', { needsBatch: true, batch })

    const fields = createFields()
    const text = await readInput(args.file)
    const rows = parseRows(text, detectFormat(text, args.file, args.format), fields)
    if (rows.length === 0) throw new UsageError('--file: no rows to add')

    const schema = requireRoute(CREATE).body as SchemaNode
    const outcomes: RowOutcome[] = []
    const seen = new Map<string, number>()
    const toSend: BulkRow[] = []
    for (const row of rows) {
      const base = {
        row: row.row,
        ...(row.line ? { line: row.line } : {}),
        blog_id: row.body.blog_id ?? null,
        monitor_url: row.body.monitor_url ?? null,
      }
      const problems =
        row.problems.length > 0
          ? row.problems
          : (await checkSchema(schema, row.body)).map((i) => `${i.path || '(row)'}: ${i.message}`)
      if (problems.length > 0) {
        outcomes.push({
          ...base,
          result: 'failed',
          code: 'invalid_row',
          message: problems.join('; '),
          request_id: null,
        })
        continue
      }
      const key = rowIdempotencyKey(row.body, batch)
      const first = seen.get(key)
      if (first !== undefined) {
        outcomes.push({
          ...base,
          result: dryRun ? 'would_skip' : 'skipped',
          code: 'duplicate_row',
          message: `the same site as row ${first}`,
          request_id: null,
        })
        continue
      }
      seen.set(key, row.row)
      toSend.push(row)
    }

    const counts = Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<RowResult, number>
    for (const outcome of outcomes) counts[outcome.result]++
    const progress = createProgress(rows.length)
    const shown = () =>
      Object.fromEntries(
        (dryRun
          ? (['would_create', 'would_skip', 'failed'] as const)
          : (['created', 'skipped', 'failed'] as const)
        ).map((r) => [r, counts[r]]),
      )
    const sites = new Map<string, Promise<string[] | null>>()
    try {
      await forEachBlog(
        toSend,
        concurrency,
        (row) => (dryRun ? predictRow(session, row, sites) : createRow(session, row, batch)),
        (outcome) => {
          outcomes.push(outcome)
          counts[outcome.result]++
          progress.update(outcomes.length, shown())
        },
      )
    } finally {
      progress.finish()
    }
    outcomes.sort((a, b) => a.row - b.row)

    const summary = { total: rows.length, ...shown() }
    if (session.format === 'json') {
      print(formatJson({ dry_run: dryRun, batch: batch ?? null, summary, rows: outcomes }, session.pretty))
    } else {
      print(
        formatTable(
          ['result', 'rows'],
          [...Object.entries(shown()).map(([r, n]) => [r, String(n)]), ['total', String(rows.length)]],
        ),
      )
      const notable = outcomes.filter((o) => o.result !== 'created' && o.result !== 'would_create')
      if (notable.length > 0) {
        print('')
        print(
          formatTable(
            ['row', 'line', 'blog_id', 'monitor_url', 'result', 'code', 'message', 'request_id'],
            notable.map((o) => [
              String(o.row),
              o.line ? String(o.line) : '',
              o.blog_id === null || o.blog_id === undefined ? '' : String(o.blog_id),
              o.monitor_url === null || o.monitor_url === undefined ? '' : String(o.monitor_url),
              o.result,
              o.code ?? '',
              o.message ?? '',
              o.request_id ?? '',
            ]),
          ),
        )
      }
      if (dryRun) print('\ndry run: nothing was written')
    }
    if (counts.failed > 0)
      throw new CommandError(
        `${counts.failed} of ${rows.length} row(s) ${dryRun ? 'would fail' : 'failed'} (see the rows above)`,
      )
  },
})

/** Export columns: the create fields an endpoint answer carries (custom header values are write-only). */
function exportFields(): FieldInfo[] {
  return createFields().filter((field) => field.name !== 'custom_headers')
}

/** An endpoint as a bulk-add row: the create fields it has, nulls and empty lists left out (= the defaults). */
export function endpointRow(endpoint: Record<string, unknown>, fields: FieldInfo[]): Record<string, unknown> {
  const row: Record<string, unknown> = {}
  for (const field of fields) {
    const value = endpoint[field.name]
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) continue
    row[field.name] = value
  }
  return row
}

/** A row as CSV cells: lists and objects as JSON, the rest as text (ids exact). */
function csvCells(row: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]),
  )
}

export const exportSites = defineApiCommand({
  name: 'export',
  description: 'Print every endpoint of every site as bulk-add input (JSON or CSV)',
  examples: [
    'jetmon2 api sites export --format csv > sites.csv',
    'jetmon2 api sites export --q example.com > some.json',
  ],
  routes: ['sites.list', 'sites.endpoints.list'],
  args: {
    format: {
      type: 'enum',
      options: ['json', 'csv'],
      description: 'json (default): an array of sites; csv: a header line and one line per endpoint',
    },
    q: { type: 'string', valueHint: 'text', description: 'Only sites with an endpoint URL containing this text' },
  },
  async run({ args, session }) {
    const fields = exportFields()
    const sites = await allPages(session, 'sites.list', { query: { limit: 200, ...(args.q ? { q: args.q } : {}) } })
    const progress = createProgress(sites.data.length)
    const rows: Record<string, unknown>[] = []
    let withHeaders = 0
    let done = 0
    try {
      for (const site of sites.data as { blog_id: string | number }[]) {
        const endpoints = await allPages(session, 'sites.endpoints.list', {
          params: { blog_id: site.blog_id },
          query: { limit: 200 },
        })
        for (const endpoint of endpoints.data as Record<string, unknown>[]) {
          if (Array.isArray(endpoint.custom_header_names) && endpoint.custom_header_names.length > 0) withHeaders++
          rows.push(endpointRow(endpoint, fields))
        }
        progress.update(++done, { endpoints: rows.length })
      }
    } finally {
      progress.finish()
    }
    if (withHeaders > 0)
      note(
        `note: ${withHeaders} endpoint(s) have custom headers; their values are write-only, so they are not in the export ` +
          '(set them again with: jetmon2 api sites endpoints update <endpoint_id> --custom-headers \'{"Name":"value"}\')',
      )
    if (args.format === 'csv') {
      process.stdout.write(
        formatCsv(
          fields.map((f) => f.name),
          rows.map(csvCells),
        ),
      )
    } else {
      print(formatJson(rows, session.pretty))
    }
    note(`exported ${rows.length} endpoint(s) of ${sites.data.length} site(s)`)
  },
})
