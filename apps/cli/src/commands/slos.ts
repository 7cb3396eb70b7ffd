/**
 * `jetmon2 api slos …`: service level objectives, their status and history, and SLOs as code —
 * `export --format openslo > slos.yaml` writes OpenSLO v1 documents, `apply -f slos.yaml` creates
 * or updates objectives by name from them (`--dry-run` shows the changes and writes nothing).
 */
import { dump } from 'js-yaml'
import { defineApiCommand, note, printData } from '../_command.js'
import { readInput } from '../_input.js'
import { allPages, resourceGroup } from '../_route-command.js'
import { UsageError } from '../errors.js'
import { formatValue } from '../output.js'
import { print } from './_shared.js'

const SLO = { id: 'The objective id (see slos list)' }

export const SLO_COLUMNS = ['id', 'name', 'blog_id', 'endpoint_id', 'sli', 'target', 'window', 'active'] as const
const SNAPSHOT_COLUMNS = [
  'day',
  'sli',
  'budget_remaining_percent',
  'budget_consumed_seconds',
  'burn_rate_24h',
  'streak_days',
  'incidents',
] as const

type Row = Record<string, unknown>
const asRow = (value: unknown): Row => (typeof value === 'object' && value !== null ? (value as Row) : {})
const round = (value: unknown, digits: number) =>
  typeof value === 'number' ? Math.round(value * 10 ** digits) / 10 ** digits : value

/** One status as a person reads it: the objective, its budget, burn rates, firing rules, streak. */
function statusRow(data: unknown): Row {
  const status = asRow(data)
  const objective = asRow(status.objective)
  const rates = asRow(status.burn_rates)
  const unit = status.unit === 'checks' ? 'checks' : 's'
  return {
    id: objective.id,
    name: objective.name,
    target: `${objective.target} % over ${objective.window}`,
    sli_percent: round(status.sli_percent, 4),
    budget_remaining_percent: round(status.budget_remaining_percent, 2),
    budget: `${round(status.budget_consumed_seconds, 1)} of ${round(status.budget_total_seconds, 1)} ${unit} spent`,
    exhausted: status.exhausted,
    is_breaching: status.is_breaching,
    burn_rates: Object.entries(rates)
      .map(([lookback, rate]) => `${lookback} ${rate === null ? '–' : round(rate, 2)}`)
      .join('  '),
    firing: (Array.isArray(status.firing) ? status.firing : [])
      .map((rule) => {
        const r = asRow(rule)
        return `${r.severity} ${r.long}/${r.short} > ${r.burn_rate}`
      })
      .join(', '),
    budget_exhausted_at: status.budget_exhausted_at,
    streak_days: `${status.current_streak_days} (best ${status.best_streak_days})`,
    has_open_downtime: status.has_open_downtime,
  }
}

function statusTable(data: unknown): string {
  return formatValue(statusRow(data))
}

function siteStatusesTable(data: unknown): string {
  const list = asRow(data).data
  const rows = (Array.isArray(list) ? list : []).map(statusRow)
  return rows.length === 0
    ? '(no active objectives)'
    : formatValue(rows, {
        columns: [
          'id',
          'name',
          'target',
          'sli_percent',
          'budget_remaining_percent',
          'is_breaching',
          'firing',
          'streak_days',
        ],
      })
}

/** `slos export`: the objectives as OpenSLO v1 documents (a YAML stream, or a JSON list). */
const exportSlos = defineApiCommand({
  name: 'export',
  description: 'Print objectives as OpenSLO v1 documents (SLOs as code), to apply again with slos apply',
  examples: [
    'jetmon2 api slos export --format openslo > slos.yaml',
    'jetmon2 api slos export --blog-id 42 --format json',
    'jetmon2 api slos export --id 7',
  ],
  routes: ['slos.list', 'slos.openslo'],
  args: {
    format: {
      type: 'enum',
      options: ['openslo', 'json'],
      description: 'openslo: a YAML stream of documents (default); json: the same documents as a JSON list',
    },
    id: { type: 'string', valueHint: 'id', description: 'Only this objective' },
    'blog-id': { type: 'string', valueHint: 'blog_id', description: "Only this site's objectives" },
    sli: { type: 'enum', options: ['availability', 'latency'], description: 'Only objectives of this SLI' },
  },
  async run({ args, session }) {
    let ids: unknown[]
    if (typeof args.id === 'string') {
      if (!/^[1-9]\d*$/.test(args.id)) throw new UsageError('--id: must be a positive decimal integer')
      ids = [args.id]
    } else {
      const query: Record<string, string> = {}
      if (typeof args['blog-id'] === 'string') query.blog_id = args['blog-id']
      if (typeof args.sli === 'string') query.sli = args.sli
      const all = await allPages(session, 'slos.list', { query: { ...query, limit: '200' } })
      ids = all.data.map((objective) => asRow(objective).id)
    }
    const documents: unknown[] = []
    for (const id of ids) {
      const answer = await session.call('slos.openslo', { params: { id: String(id) } })
      documents.push(...(answer.data as unknown[]))
    }
    if (documents.length === 0) note('no objectives matched: nothing to export')
    if (args.format === 'json') {
      print(JSON.stringify(documents, null, session.pretty ? 2 : undefined))
      return
    }
    const text = documents.map((document) => dump(document, { lineWidth: -1 } as never)).join('---\n')
    if (text !== '') process.stdout.write(text)
  },
})

const ACTION_VERB: Record<string, string> = { create: 'created', update: 'updated', unchanged: 'unchanged' }

/** `slos apply`: OpenSLO documents from a file (or stdin) as objectives, by name. */
const applySlos = defineApiCommand({
  name: 'apply',
  description: 'Create or update objectives by name from OpenSLO v1 documents (YAML or JSON); --dry-run writes nothing',
  examples: [
    'jetmon2 api slos apply -f slos.yaml --dry-run',
    'jetmon2 api slos apply -f slos.yaml',
    'jetmon2 api slos export --format openslo | jetmon2 api slos apply -f -',
  ],
  writes: true,
  routes: ['slos.apply'],
  args: {
    file: {
      type: 'string',
      alias: 'f',
      valueHint: 'path|-',
      description: 'The documents: a YAML or JSON file, - for stdin',
    },
    'dry-run': { type: 'boolean', description: 'Show what would change and change nothing' },
    'idempotency-key': {
      type: 'string',
      valueHint: 'key',
      description: 'Idempotency-Key: re-running with the same key replays the first answer instead of applying twice',
    },
  },
  async run({ args, session }) {
    if (typeof args.file !== 'string') throw new UsageError('-f/--file: name the documents to apply (- for stdin)')
    const text = await readInput(args.file)
    const dryRun = args['dry-run'] === true
    // A dry run never writes, so it may go to a remote API without --allow-remote.
    if (!dryRun) session.assertWritable('slos apply (POST /slos/apply)')
    // The server reads the text itself (YAML, of which JSON is a part) and names each problem by its path.
    const answer = await session.call(
      'slos.apply',
      { query: dryRun ? { dry_run: 'true' } : {}, body: text },
      typeof args['idempotency-key'] === 'string' ? { idempotencyKey: args['idempotency-key'] } : {},
    )
    printData(session, answer.data, (data) => {
      const report = asRow(data)
      const documents = (Array.isArray(report.documents) ? report.documents : []).map((entry) => {
        const document = asRow(entry)
        const objective = asRow(document.objective)
        return {
          document: document.index,
          name: document.name,
          action: dryRun ? document.action : ACTION_VERB[String(document.action)],
          id: objective.id ?? '',
          changes: (Array.isArray(document.changes) ? document.changes : [])
            .map((change) => asRow(change).field)
            .join(', '),
        }
      })
      const summary = asRow(report.summary)
      const counts = `${summary.create} to create, ${summary.update} to update, ${summary.unchanged} unchanged`
      return `${formatValue(documents, { columns: ['document', 'name', 'action', 'id', 'changes'] })}\n\n${
        dryRun
          ? `dry run: ${counts}; nothing was written`
          : counts.replace('to create', 'created').replace('to update', 'updated')
      }`
    })
  },
})

/** `jetmon2 api slos …`. */
export default resourceGroup('slos', 'Service level objectives: error budgets, burn rates, streaks, SLOs as code', {
  list: {
    name: 'list',
    route: 'slos.list',
    columns: SLO_COLUMNS,
    examples: [
      'jetmon2 api slos list --blog-id 42',
      'jetmon2 api slos list --breaching true',
      'jetmon2 api slos list --budget-remaining-percent-lt 25 --all',
    ],
  },
  get: { name: 'get', route: 'slos.get', params: SLO, examples: ['jetmon2 api slos get 7'] },
  create: {
    name: 'create',
    route: 'slos.create',
    examples: [
      'jetmon2 api slos create --name "shop availability" --blog-id 42 --sli availability --target 99.9 --window 30d',
      'jetmon2 api slos create --name "shop latency" --blog-id 42 --sli latency --latency-threshold-ms 800 --target 99 --window 7d',
    ],
  },
  update: {
    name: 'update',
    route: 'slos.update',
    params: SLO,
    examples: ['jetmon2 api slos update 7 --target 99.95', 'jetmon2 api slos update 7 --alert-policy null'],
  },
  delete: {
    name: 'delete',
    route: 'slos.delete',
    params: SLO,
    done: (p) => `objective ${p.id} deleted: no longer evaluated, its name free, its history kept`,
    examples: ['jetmon2 api slos delete 7'],
  },
  status: {
    name: 'status',
    route: 'slos.status',
    params: SLO,
    table: statusTable,
    examples: ['jetmon2 api slos status 7', 'jetmon2 api slos status 7 --output json'],
  },
  site: {
    name: 'site',
    route: 'slos.site',
    params: { blog_id: 'The site: its blog id' },
    table: siteStatusesTable,
    examples: ['jetmon2 api slos site 42'],
  },
  snapshots: {
    name: 'snapshots',
    route: 'slos.snapshots',
    params: SLO,
    columns: SNAPSHOT_COLUMNS,
    examples: ['jetmon2 api slos snapshots 7 --limit 30'],
  },
  export: exportSlos,
  apply: applySlos,
})
