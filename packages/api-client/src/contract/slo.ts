/**
 * Service level objectives (docs/api.md, SLOs): objectives of a site or endpoint, their status
 * (SLI, error budget, burn rates, alert rules firing, streak), daily snapshots, and SLOs as code
 * (OpenSLO v1 export and apply). Read and write scopes as for sites; in gateway mode a tenant sees
 * only its own objectives, on its own sites.
 */
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { BooleanParam, Id, IdInput, IdParam, listOf, PageQuery, Timestamp } from './schema.js'

/** `availability` counts downtime, `latency` counts checks slower than the threshold (or failed). */
export const SLI_KINDS = ['availability', 'latency'] as const
/** Rolling windows (days) and calendar windows (UTC month, quarter). */
export const SLO_WINDOWS = ['7d', '28d', '30d', '90d', 'month', 'quarter'] as const
/** The lookbacks burn rates are reported over, and that alert rules may name. */
export const SLO_LOOKBACKS = ['5m', '30m', '1h', '6h', '24h', '3d'] as const
/** A `page` rule opens its alert as Degraded, a `ticket` rule as Warning. */
export const SLO_SEVERITIES = ['page', 'ticket'] as const

const percent = (what: string) =>
  v.pipe(
    v.number('must be a number'),
    v.minValue(0, 'must be at least 0'),
    v.maxValue(100, 'must be at most 100'),
    v.description(what),
  )

const Lookback = v.picklist(SLO_LOOKBACKS, `must be one of ${SLO_LOOKBACKS.join(', ')}`)

/** A burn-rate rule: fires when the burn rate exceeds `burn_rate` over both `long` and `short`. */
export const SloRule = v.object({
  long: v.picklist(SLO_LOOKBACKS),
  short: v.picklist(SLO_LOOKBACKS),
  burn_rate: v.number(),
  severity: v.picklist(SLO_SEVERITIES),
})
export type SloRule = v.InferOutput<typeof SloRule>

const SloRuleInput = v.strictObject({
  long: Lookback,
  short: Lookback,
  burn_rate: v.pipe(v.number('must be a number'), v.gtValue(0, 'must be greater than 0')),
  severity: v.picklist(SLO_SEVERITIES, `must be one of ${SLO_SEVERITIES.join(', ')}`),
})

/** One objective. */
export const Slo = v.object({
  id: Id,
  name: v.string(),
  blog_id: Id,
  endpoint_id: v.pipe(v.nullable(Id), v.description('One endpoint of the site, or null for all of them.')),
  sli: v.picklist(SLI_KINDS),
  latency_threshold_ms: v.pipe(
    v.nullable(v.number()),
    v.description('Latency objectives: a good check answers within it.'),
  ),
  target: v.pipe(v.number(), v.description('Percent, e.g. 99.9.')),
  window: v.picklist(SLO_WINDOWS),
  alert_policy: v.pipe(v.nullable(v.array(SloRule)), v.description('Null: the default multiwindow burn-rate policy.')),
  budget_warn_percent: v.pipe(v.number(), v.description('slo_budget opens as Warning when less budget is left.')),
  budget_critical_percent: v.pipe(v.number(), v.description('slo_budget escalates to Degraded below it.')),
  active: v.pipe(v.boolean(), v.description('False once deleted: not evaluated, name free, history kept.')),
  owner_tenant_id: v.optional(v.pipe(v.string(), v.description('Gateway mode only: the owning tenant.'))),
  created_by: v.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
})
export type Slo = v.InferOutput<typeof Slo>

const Name = v.pipe(
  v.string('must be a string'),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
  v.description('Unique per owner among active objectives (compared case-insensitively).'),
)
const Target = v.pipe(
  v.number('must be a number'),
  v.gtValue(0, 'must be greater than 0'),
  v.ltValue(100, 'must be less than 100'),
  v.description('Percent, strictly between 0 and 100, at most three decimals (99.9).'),
)
const LatencyThreshold = v.pipe(
  v.number('must be a number'),
  v.safeInteger('must be a whole number of milliseconds'),
  v.minValue(1, 'must be at least 1'),
  v.maxValue(600_000, 'must be at most 600000'),
)
const AlertPolicyInput = v.pipe(
  v.array(SloRuleInput, 'must be a list of rules, or null for the default policy'),
  v.minLength(1, 'must have at least one rule (null for the default policy)'),
  v.maxLength(10, 'must have at most 10 rules'),
)

const SloFields = {
  name: Name,
  blog_id: IdInput,
  endpoint_id: v.optional(v.nullable(IdInput)),
  sli: v.picklist(SLI_KINDS, `must be one of ${SLI_KINDS.join(', ')}`),
  latency_threshold_ms: v.optional(v.nullable(LatencyThreshold)),
  target: Target,
  window: v.picklist(SLO_WINDOWS, `must be one of ${SLO_WINDOWS.join(', ')}`),
  alert_policy: v.optional(v.nullable(AlertPolicyInput)),
  budget_warn_percent: v.optional(percent('Default 25.')),
  budget_critical_percent: v.optional(percent('Default 10; below budget_warn_percent.')),
}

/** The status of an objective now, computed on read. */
export const SloStatus = v.object({
  objective: Slo,
  unit: v.pipe(
    v.picklist(['seconds', 'checks']),
    v.description(
      'What the *_seconds figures count: seconds (availability), or checks for a latency objective (check-based).',
    ),
  ),
  window_start: v.pipe(Timestamp, v.description('The window measured: from here to now.')),
  sli_percent: v.pipe(v.nullable(v.number()), v.description('Null when nothing of the window was eligible.')),
  eligible_seconds: v.pipe(v.number(), v.description('Monitored time outside maintenance and Unknown time.')),
  budget_total_seconds: v.pipe(v.number(), v.description('(1 − target/100) × eligible.')),
  budget_consumed_seconds: v.pipe(v.number(), v.description('Downtime (or bad checks) in the window.')),
  budget_remaining_percent: v.pipe(v.number(), v.description('Below zero once the budget is exhausted.')),
  exhausted: v.boolean(),
  burn_rates: v.pipe(
    v.object({
      '5m': v.nullable(v.number()),
      '30m': v.nullable(v.number()),
      '1h': v.nullable(v.number()),
      '6h': v.nullable(v.number()),
      '24h': v.nullable(v.number()),
      '3d': v.nullable(v.number()),
    }),
    v.description('(bad / eligible) / (1 − target/100) per lookback; 1 spends the budget exactly over the window.'),
  ),
  firing: v.pipe(v.array(SloRule), v.description('The rules whose long and short burn rates both exceed theirs.')),
  is_breaching: v.pipe(v.boolean(), v.description('The SLI is below the target.')),
  has_open_downtime: v.boolean(),
  current_streak_days: v.number(),
  best_streak_days: v.number(),
  budget_exhausted_at: v.pipe(
    v.nullable(Timestamp),
    v.description('When the budget runs out at the current 1 h burn rate; null when it does not.'),
  ),
})
export type SloStatus = v.InferOutput<typeof SloStatus>

/** One UTC day of an objective, at the day's end. */
export const SloSnapshot = v.object({
  day: v.pipe(v.string(), v.description('YYYY-MM-DD (UTC).')),
  sli: v.nullable(v.number()),
  budget_consumed_seconds: v.number(),
  budget_remaining_percent: v.nullable(v.number()),
  burn_rate_24h: v.nullable(v.number()),
  streak_days: v.number(),
  incidents: v.pipe(v.number(), v.description('Downtime incidents of the scope that began that day.')),
})
export type SloSnapshot = v.InferOutput<typeof SloSnapshot>

/** What an apply did (or, in a dry run, would do) with one document. */
export const SloApplied = v.object({
  index: v.pipe(v.number(), v.description('The document, 0-based, in the order sent.')),
  name: v.string(),
  action: v.picklist(['create', 'update', 'unchanged']),
  objective: v.pipe(
    v.nullable(Slo),
    v.description('After the apply; in a dry run the current one (null for a create).'),
  ),
  changes: v.array(v.object({ field: v.string(), from: v.unknown(), to: v.unknown() })),
})

const NumberParam = v.pipe(v.string(), v.regex(/^-?\d+(\.\d+)?$/, 'must be a number'), v.transform(Number))

const sloErrors = ['slo_not_found'] as const
const SloParams = v.object({ id: IdParam })

export const listSlos = defineRoute({
  method: 'GET',
  path: '/slos',
  scope: 'read',
  tag: 'slos',
  summary: 'Objectives in id order (active ones unless active=false)',
  query: v.strictObject({
    ...PageQuery,
    blog_id: v.optional(IdParam),
    sli: v.optional(v.picklist(SLI_KINDS, `must be one of ${SLI_KINDS.join(', ')}`)),
    active: v.optional(BooleanParam),
    breaching: v.optional(
      v.pipe(BooleanParam, v.description('Only those whose SLI is below (true) or at least (false) the target.')),
    ),
    budget_remaining_percent__lt: v.optional(
      v.pipe(NumberParam, v.description('Only those with less error budget left than this percent.')),
    ),
  }),
  status: 200,
  response: listOf(Slo),
})

export const createSlo = defineRoute({
  method: 'POST',
  path: '/slos',
  scope: 'write',
  tag: 'slos',
  summary: 'Create an objective for a site or one of its endpoints',
  body: v.strictObject(SloFields),
  status: 201,
  response: Slo,
  errors: ['site_not_found', 'slo_name_taken'],
  idempotent: true,
})

export const getSlo = defineRoute({
  method: 'GET',
  path: '/slos/{id}',
  scope: 'read',
  tag: 'slos',
  summary: 'One objective, active or deleted',
  params: SloParams,
  status: 200,
  response: Slo,
  errors: sloErrors,
})

export const updateSlo = defineRoute({
  method: 'PATCH',
  path: '/slos/{id}',
  scope: 'write',
  tag: 'slos',
  summary: 'Change an objective: fields left out keep their value; active=true restores a deleted one',
  params: SloParams,
  body: v.strictObject({
    name: v.optional(Name),
    blog_id: v.optional(IdInput),
    endpoint_id: v.optional(v.nullable(IdInput)),
    sli: v.optional(SloFields.sli),
    latency_threshold_ms: v.optional(v.nullable(LatencyThreshold)),
    target: v.optional(Target),
    window: v.optional(SloFields.window),
    alert_policy: v.optional(v.nullable(AlertPolicyInput)),
    budget_warn_percent: SloFields.budget_warn_percent,
    budget_critical_percent: SloFields.budget_critical_percent,
    active: v.optional(v.boolean('must be true or false')),
  }),
  status: 200,
  response: Slo,
  errors: [...sloErrors, 'site_not_found', 'slo_name_taken'],
})

export const deleteSlo = defineRoute({
  method: 'DELETE',
  path: '/slos/{id}',
  scope: 'write',
  tag: 'slos',
  summary: 'Delete (deactivate) an objective: no longer evaluated, its name free, its history kept',
  params: SloParams,
  status: 204,
  errors: sloErrors,
})

export const getSloStatus = defineRoute({
  method: 'GET',
  path: '/slos/{id}/status',
  scope: 'read',
  tag: 'slos',
  summary: 'SLI, error budget, burn rates, firing rules and streak of an objective, now',
  params: SloParams,
  status: 200,
  response: SloStatus,
  errors: sloErrors,
})

export const listSloSnapshots = defineRoute({
  method: 'GET',
  path: '/slos/{id}/snapshots',
  scope: 'read',
  tag: 'slos',
  summary: "An objective's daily snapshots, newest first",
  params: SloParams,
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(SloSnapshot),
  errors: sloErrors,
})

export const listSiteSlos = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/slos',
  scope: 'read',
  tag: 'slos',
  summary: "A site's active objectives with their status",
  params: v.object({ blog_id: IdParam }),
  query: v.strictObject({ ...PageQuery }),
  status: 200,
  response: listOf(SloStatus),
  errors: ['site_not_found'],
})

/** An OpenSLO v1 document (`apiVersion`, `kind`, `metadata`, `spec`). */
export const OpenSloDocument = v.pipe(
  v.record(v.string(), v.unknown()),
  v.description('An OpenSLO v1 document: apiVersion openslo/v1, kind SLO, metadata, spec.'),
)

export const exportSloOpenSlo = defineRoute({
  method: 'GET',
  path: '/slos/{id}/openslo',
  scope: 'read',
  tag: 'slos',
  summary:
    'The objective as OpenSLO v1 documents (SLO with its SLI and alert policy inline); YAML with Accept: application/yaml',
  params: SloParams,
  status: 200,
  response: v.array(OpenSloDocument),
  errors: sloErrors,
  yaml: true,
})

export const applySlos = defineRoute({
  method: 'POST',
  path: '/slos/apply',
  scope: 'write',
  tag: 'slos',
  summary:
    'Create or update objectives by name from OpenSLO v1 documents (JSON, or YAML with Content-Type: application/yaml); dry_run=true changes nothing',
  query: v.strictObject({
    dry_run: v.optional(v.pipe(BooleanParam, v.description('Report what would change, and change nothing.'))),
  }),
  body: v.pipe(
    v.unknown(),
    v.check((value) => value !== undefined && value !== null, 'is required: OpenSLO documents'),
    v.description(
      'One OpenSLO v1 document or a list of them; a YAML stream as application/yaml (or as one JSON string).',
    ),
  ),
  status: 200,
  response: v.object({
    dry_run: v.boolean(),
    summary: v.object({ create: v.number(), update: v.number(), unchanged: v.number() }),
    documents: v.array(SloApplied),
  }),
  errors: ['slo_name_taken'],
  idempotent: true,
  yaml: true,
})

export const sloRoutes = {
  'slos.list': listSlos,
  'slos.create': createSlo,
  'slos.get': getSlo,
  'slos.update': updateSlo,
  'slos.delete': deleteSlo,
  'slos.status': getSloStatus,
  'slos.snapshots': listSloSnapshots,
  'slos.site': listSiteSlos,
  'slos.openslo': exportSloOpenSlo,
  'slos.apply': applySlos,
}
