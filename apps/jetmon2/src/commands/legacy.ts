/**
 * `jetmon2 legacy audit|adopt`: the v1 table before a range moves to Jetmon 2. `audit` reads it and
 * reports what would make the switch unsafe; `adopt` takes over the incidents v1 already reported
 * (see @jetmon/legacy). Both talk to the database directly, like the other admin commands.
 */
import {
  type AdoptionExample,
  type AdoptionResult,
  adoptLegacyIncidents,
  auditLegacySites,
  type LegacyAudit,
  type LegacyRowExample,
} from '@jetmon/legacy'
import { defineCommand } from 'citty'
import { withAdminDatabase } from '../_admin-database.js'
import { cliSource, parseInteger, usageError } from '../_args.js'
import { formatTable, formatTime, jsonId, outputArg, outputFormat, print, printJson } from '../_output.js'
import { configArg } from '../command-config.js'
import { CommandError } from '../errors.js'

const MAX_BUCKET = 65_535
const MAX_EXAMPLES = 100

const rangeArgs = {
  'bucket-min': { type: 'string', valueHint: 'N', description: 'First bucket of the range (with --bucket-max)' },
  'bucket-max': { type: 'string', valueHint: 'M', description: 'Last bucket of the range, inclusive' },
} as const

const examplesArg = {
  examples: {
    type: 'string',
    valueHint: 'N',
    description: `Examples shown per finding (1–${MAX_EXAMPLES}; default 5)`,
  },
} as const

/** The range from the flags: both or (when `required` is false) neither. */
function parseRange(
  args: { 'bucket-min'?: string | undefined; 'bucket-max'?: string | undefined },
  required: boolean,
): { bucketMin: number; bucketMax: number } | null {
  const min = args['bucket-min']
  const max = args['bucket-max']
  if (min === undefined && max === undefined && !required) return null
  if (min === undefined) throw usageError('--bucket-min', required ? 'required' : 'give it with --bucket-max')
  if (max === undefined) throw usageError('--bucket-max', required ? 'required' : 'give it with --bucket-min')
  const bucketMin = parseInteger('--bucket-min', min, { min: 0, max: MAX_BUCKET })
  const bucketMax = parseInteger('--bucket-max', max, { min: 0, max: MAX_BUCKET })
  if (bucketMin > bucketMax) throw usageError('--bucket-min', `${bucketMin} is above --bucket-max ${bucketMax}`)
  return { bucketMin, bucketMax }
}

const parseExamples = (text: string | undefined) =>
  text === undefined ? 5 : parseInteger('--examples', text, { min: 1, max: MAX_EXAMPLES })

const rangeText = (range: { min: number; max: number } | null) =>
  range ? `buckets ${range.min}–${range.max}` : 'all buckets'

function rowJson(row: LegacyRowExample) {
  return {
    endpoint_id: jsonId(row.endpointId),
    blog_id: jsonId(row.blogId),
    bucket_no: row.bucketNo,
    monitor_url: row.monitorUrl,
    monitor_active: row.monitorActive,
    site_status: row.siteStatus,
    check_interval: row.checkInterval,
    ...(row.note === undefined ? {} : { note: row.note }),
  }
}

/** The audit as JSON (the shape the API's preflight reports too). */
export function auditJson(audit: LegacyAudit) {
  return {
    range: audit.range ? { bucket_min: audit.range.min, bucket_max: audit.range.max } : null,
    bucket_total: audit.bucketTotal,
    active_rows: audit.activeRows,
    blocking: audit.blocking,
    findings: audit.findings.map((finding) => ({
      code: finding.code,
      severity: finding.severity,
      count: finding.count,
      message: finding.message,
      examples: finding.examples.map(rowJson),
    })),
  }
}

function printAudit(audit: LegacyAudit): void {
  const blocking = audit.findings.filter((f) => f.severity === 'blocking').length
  const warnings = audit.findings.length - blocking
  print(
    `jetpack_monitor_sites, ${rangeText(audit.range)} (BUCKET_TOTAL ${audit.bucketTotal}): ${audit.activeRows} active row(s), ` +
      `${blocking} blocking finding(s), ${warnings} warning(s).`,
  )
  if (audit.findings.length === 0) {
    print('\nNo findings: the range can move to Jetmon 2.')
    return
  }
  print('')
  print(
    formatTable(
      ['severity', 'finding', 'count'],
      audit.findings.map((f) => [f.severity, f.code, String(f.count)]),
    ),
  )
  for (const finding of audit.findings) {
    print(`\n${finding.code} (${finding.severity}): ${finding.message}`)
    if (finding.examples.length === 0) continue
    const notes = finding.examples.some((row) => row.note !== undefined)
    print(
      formatTable(
        ['endpoint', 'blog', 'bucket', 'site_status', 'interval', 'url', ...(notes ? ['note'] : [])],
        finding.examples.map((row) => [
          row.endpointId.toString(),
          row.blogId.toString(),
          String(row.bucketNo),
          String(row.siteStatus),
          String(row.checkInterval),
          // One row per line, whatever the URL holds.
          JSON.stringify(row.monitorUrl).slice(1, -1),
          ...(notes ? [row.note ?? ''] : []),
        ]),
      ),
    )
  }
  if (blocking > 0) print('\nFix the blocking findings before this range moves to Jetmon 2.')
}

const audit = defineCommand({
  meta: {
    name: 'audit',
    description:
      'Check the v1 table (jetpack_monitor_sites) before a range moves to Jetmon 2; exit 1 on a blocking finding (changes nothing)',
  },
  args: { ...rangeArgs, ...examplesArg, ...outputArg, ...configArg },
  async run({ args }) {
    const format = outputFormat(args)
    const range = parseRange(args, false)
    const examples = parseExamples(args.examples)
    const result = await withAdminDatabase(args, (db, config) =>
      auditLegacySites({ ctx: { db }, ...(range ?? {}), bucketTotal: config.BUCKET_TOTAL, examples }),
    )
    if (format === 'json') printJson(auditJson(result))
    else printAudit(result)
    const blocking = result.findings.filter((f) => f.severity === 'blocking')
    if (blocking.length > 0) {
      throw new CommandError(
        `${blocking.length} blocking finding(s) in ${rangeText(result.range)}: ${blocking.map((f) => f.code).join(', ')}`,
        { exitCode: 1 },
      )
    }
  },
})

function exampleJson(example: AdoptionExample) {
  return {
    endpoint_id: jsonId(example.endpointId),
    blog_id: jsonId(example.blogId),
    bucket_no: example.bucketNo,
    monitor_url: example.monitorUrl,
    site_status: example.siteStatus,
    state: example.state,
    started_at: example.startedAt.toISOString(),
    ...(example.eventId === undefined ? {} : { event_id: jsonId(example.eventId) }),
  }
}

function printAdoption(result: AdoptionResult): void {
  const total = result.adopted.seemsDown + result.adopted.down
  const what = `${total} incident(s) (${result.adopted.down} Down, ${result.adopted.seemsDown} Seems Down)`
  print(
    result.execute
      ? `Adopted ${what} in ${rangeText(result.range)}.`
      : `Dry run: would adopt ${what} in ${rangeText(result.range)}. Nothing was changed; --execute adopts them.`,
  )
  if (result.alreadyOpen > 0) {
    print(`${result.alreadyOpen} row(s) down for v1 already have an open incident and are left as they are.`)
  }
  if (result.skipped > 0) print(`${result.skipped} row(s) got an open incident from someone else meanwhile.`)
  if (result.examples.length > 0) {
    print('')
    print(
      formatTable(
        ['endpoint', 'blog', 'bucket', 'site_status', 'state', 'since', ...(result.execute ? ['event'] : []), 'url'],
        result.examples.map((e) => [
          e.endpointId.toString(),
          e.blogId.toString(),
          String(e.bucketNo),
          String(e.siteStatus),
          e.state,
          formatTime(e.startedAt),
          ...(result.execute ? [e.eventId?.toString() ?? ''] : []),
          JSON.stringify(e.monitorUrl).slice(1, -1),
        ]),
      ),
    )
  }
  if (total > 0) {
    print(
      '\nA Down counts as already notified: WordPress.com gets its recovery, not a second Down notice. ' +
        'Webhooks and alert contacts are not told of adoptions.',
    )
  }
}

const adopt = defineCommand({
  meta: {
    name: 'adopt',
    description:
      'Take over the incidents v1 reported (site_status 0 or 2) in a range as open events; a dry run unless --execute',
  },
  args: {
    ...rangeArgs,
    execute: { type: 'boolean', description: 'Adopt them (without it: say what would be adopted, change nothing)' },
    'batch-size': { type: 'string', valueHint: 'N', description: 'Rows per transaction (1–5000; default 500)' },
    ...examplesArg,
    ...outputArg,
    ...configArg,
  },
  async run({ args }) {
    const format = outputFormat(args)
    const range = parseRange(args, true) as { bucketMin: number; bucketMax: number }
    const batchSize =
      args['batch-size'] === undefined ? 500 : parseInteger('--batch-size', args['batch-size'], { min: 1, max: 5_000 })
    const examples = parseExamples(args.examples)
    const execute = args.execute === true
    const result = await withAdminDatabase(args, (db, config) =>
      adoptLegacyIncidents({
        ctx: { db, source: cliSource(), projection: config.LEGACY_STATUS_PROJECTION_ENABLE },
        ...range,
        execute,
        batchSize,
        examples,
        onProgress: (p) =>
          process.stderr.write(`adopted ${p.adopted} of ${p.total} (${p.done} handled, ${p.skipped} skipped)\n`),
      }),
    )
    if (format === 'json') {
      printJson({
        execute: result.execute,
        range: { bucket_min: result.range.min, bucket_max: result.range.max },
        adopted: { seems_down: result.adopted.seemsDown, down: result.adopted.down },
        already_open: result.alreadyOpen,
        skipped: result.skipped,
        examples: result.examples.map(exampleJson),
      })
      return
    }
    printAdoption(result)
  },
})

export default defineCommand({
  meta: { name: 'legacy', description: 'The v1 table before a cutover: audit it, adopt its incidents' },
  subCommands: { audit, adopt },
})
