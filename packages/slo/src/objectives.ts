/**
 * What an objective is made of: the SLI kinds, the windows, the alert policy (the default one and
 * the shape of a custom one), and the validation of an objective's fields in their wire form
 * (snake_case, as the API and SLOs-as-code documents carry them), with the path of each problem.
 */
import * as v from 'valibot'
import { InvalidObjectiveError, type ObjectiveIssue } from './errors.js'
import { BURN_LOOKBACKS, type BurnLookback, OBJECTIVE_WINDOWS, type ObjectiveWindow } from './windows.js'

/** `availability` is time-based (downtime spends budget), `latency` check-based (slow or failed checks). */
export const SLI_KINDS = ['availability', 'latency'] as const
export type SliKind = (typeof SLI_KINDS)[number]

// The windows and the lookbacks are those the status computes (one list each, in windows.ts).
export { OBJECTIVE_WINDOWS, type ObjectiveWindow } from './windows.js'

/** The lookbacks a burn-rate rule may name as its long or short window, shortest first. */
export const ALERT_LOOKBACKS = BURN_LOOKBACKS
export type AlertLookback = BurnLookback

/** A page rule opens (or escalates) its alert as Degraded, a ticket rule as Warning. */
export const ALERT_SEVERITIES = ['page', 'ticket'] as const
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number]

/** The event severity an alert opened by a rule of each kind has. */
export const ALERT_SEVERITY_STATE: Readonly<Record<AlertSeverity, 'Degraded' | 'Warning'>> = Object.freeze({
  page: 'Degraded',
  ticket: 'Warning',
})

/** A multiwindow burn-rate rule: fires when the burn rate exceeds `burnRate` over both windows. */
export interface BurnRule {
  severity: AlertSeverity
  long: AlertLookback
  short: AlertLookback
  burnRate: number
}

/**
 * The policy of an objective without one of its own: the SRE Workbook's multiwindow, multi-burn-rate
 * policy. Two page rules (2 % of a 30-day budget spent in an hour, 5 % in six hours) and a ticket
 * rule (10 % in three days).
 */
export const DEFAULT_ALERT_POLICY: readonly BurnRule[] = Object.freeze([
  Object.freeze({ severity: 'page', long: '1h', short: '5m', burnRate: 14.4 }),
  Object.freeze({ severity: 'page', long: '6h', short: '30m', burnRate: 6 }),
  Object.freeze({ severity: 'ticket', long: '3d', short: '6h', burnRate: 1 }),
] as const)

/** The budget thresholds of an objective that sets none: Warning below 25 % left, Degraded below 10 %. */
export const DEFAULT_BUDGET_WARN_PERCENT = 25
export const DEFAULT_BUDGET_CRITICAL_PERCENT = 10

/** The longest name, in characters. */
export const MAX_OBJECTIVE_NAME_LENGTH = 128

const LOOKBACK_ORDER = new Map<string, number>(ALERT_LOOKBACKS.map((lookback, index) => [lookback, index]))

/** An alert rule as stored and as the API carries it. */
export interface AlertRuleFields {
  long: AlertLookback
  short: AlertLookback
  burn_rate: number
  severity: AlertSeverity
}

/** An objective's fields in their wire form, after validation (ids as bigints). */
export interface ObjectiveFields {
  name: string
  blog_id: bigint
  endpoint_id: bigint | null
  sli: SliKind
  latency_threshold_ms: number | null
  target: number
  window: ObjectiveWindow
  alert_policy: AlertRuleFields[] | null
  budget_warn_percent: number
  budget_critical_percent: number
  active: boolean
}

/** The rule as the API writes it, from its in-memory form. */
export function ruleFields(rule: BurnRule): AlertRuleFields {
  return { long: rule.long, short: rule.short, burn_rate: rule.burnRate, severity: rule.severity }
}

/** The rule in memory, from the form the API writes. */
export function ruleFromFields(rule: AlertRuleFields): BurnRule {
  return { severity: rule.severity, long: rule.long, short: rule.short, burnRate: rule.burn_rate }
}

const idSchema = v.pipe(
  v.union([v.bigint(), v.number(), v.string()], 'must be an id: a whole number or a decimal string'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const raw = dataset.value
    const text = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : null
    if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
      addIssue({ message: 'must be a whole number within 2^53 (send larger ids as decimal strings)' })
      return NEVER
    }
    if (text !== null && !/^\d+$/.test(text)) {
      addIssue({ message: 'must be an id: a whole number or a decimal string' })
      return NEVER
    }
    const id = typeof raw === 'bigint' ? raw : BigInt(text as string)
    if (id < 1n || id >= 2n ** 64n) {
      addIssue({ message: 'must be an id between 1 and 2^64 − 1' })
      return NEVER
    }
    return id
  }),
)

/** The number of decimals of a finite number as written (`99.95` → 2). */
function decimals(value: number): number {
  const text = String(value)
  if (/e-/i.test(text)) return Number.POSITIVE_INFINITY
  const dot = text.indexOf('.')
  return dot === -1 ? 0 : text.length - dot - 1
}

const percentSchema = v.pipe(
  v.number('must be a number'),
  v.check((value: number) => Number.isFinite(value), 'must be a finite number'),
  v.minValue(0, 'must be at least 0'),
  v.maxValue(100, 'must be at most 100'),
  v.check((value) => decimals(value) <= 2, 'must have at most 2 decimals'),
)

const ruleSchema = v.strictObject(
  {
    long: v.picklist(ALERT_LOOKBACKS, `must be one of ${ALERT_LOOKBACKS.join(', ')}`),
    short: v.picklist(ALERT_LOOKBACKS, `must be one of ${ALERT_LOOKBACKS.join(', ')}`),
    burn_rate: v.pipe(
      v.number('must be a number'),
      v.check((value: number) => Number.isFinite(value), 'must be a finite number'),
      v.gtValue(0, 'must be greater than 0'),
      v.maxValue(1000, 'must be at most 1000'),
    ),
    severity: v.picklist(ALERT_SEVERITIES, `must be one of ${ALERT_SEVERITIES.join(', ')}`),
  },
  'must be a rule: {long, short, burn_rate, severity}',
)

/** Every field, each optional: a create fills in defaults, an update merges with the stored objective. */
const fieldsSchema = v.strictObject({
  name: v.optional(
    v.pipe(
      v.string('must be a string'),
      v.check((name) => name.trim().length > 0, 'must not be empty'),
      v.check(
        (name) => [...name].length <= MAX_OBJECTIVE_NAME_LENGTH,
        `must be at most ${MAX_OBJECTIVE_NAME_LENGTH} characters`,
      ),
    ),
  ),
  blog_id: v.optional(idSchema),
  endpoint_id: v.optional(v.nullable(idSchema)),
  sli: v.optional(v.picklist(SLI_KINDS, `must be one of ${SLI_KINDS.join(', ')}`)),
  latency_threshold_ms: v.optional(
    v.nullable(
      v.pipe(
        v.number('must be a number'),
        v.integer('must be a whole number of milliseconds'),
        v.minValue(1, 'must be at least 1'),
        v.maxValue(600_000, 'must be at most 600000'),
      ),
    ),
  ),
  target: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.check((value: number) => Number.isFinite(value), 'must be a finite number'),
      v.gtValue(0, 'must be greater than 0'),
      v.ltValue(100, 'must be less than 100'),
      v.check((value) => decimals(value) <= 3, 'must have at most 3 decimals'),
    ),
  ),
  window: v.optional(v.picklist(OBJECTIVE_WINDOWS, `must be one of ${OBJECTIVE_WINDOWS.join(', ')}`)),
  alert_policy: v.optional(
    v.nullable(
      v.pipe(
        v.array(ruleSchema, 'must be a list of rules, or null for the default policy'),
        v.minLength(1, 'must have at least one rule (null for the default policy)'),
        v.maxLength(10, 'must have at most 10 rules'),
      ),
    ),
  ),
  budget_warn_percent: v.optional(percentSchema),
  budget_critical_percent: v.optional(percentSchema),
  active: v.optional(v.boolean('must be true or false')),
})

export type ObjectiveFieldsInput = v.InferInput<typeof fieldsSchema>
type ParsedFields = v.InferOutput<typeof fieldsSchema>

/** The issues of a valibot result, each with its dotted path (`alert_policy.0.burn_rate`). */
function issuesOf(issues: readonly v.BaseIssue<unknown>[]): ObjectiveIssue[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue) ?? ''
    // A key the object does not have: its path names the key itself.
    if (issue.type === 'strict_object' && issue.expected === 'never') {
      return {
        path,
        message: (issue.path?.length ?? 0) > 1 ? 'is not a field of a rule' : 'is not a field of an objective',
      }
    }
    return { path, message: issue.message }
  })
}

/** Parses the given fields (each optional); throws {@link InvalidObjectiveError} naming each problem. */
export function parseObjectiveFields(input: unknown): ParsedFields {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidObjectiveError([{ path: '', message: 'must be an object' }])
  }
  const result = v.safeParse(fieldsSchema, input)
  if (!result.success) throw new InvalidObjectiveError(issuesOf(result.issues))
  return result.output
}

/** The rules that hold between fields, checked on the whole objective (after defaults or a merge). */
export function objectiveProblems(fields: ObjectiveFields): ObjectiveIssue[] {
  const problems: ObjectiveIssue[] = []
  if (fields.sli === 'latency' && fields.latency_threshold_ms === null) {
    problems.push({ path: 'latency_threshold_ms', message: 'is required for a latency objective' })
  }
  if (fields.sli !== 'latency' && fields.latency_threshold_ms !== null) {
    problems.push({ path: 'latency_threshold_ms', message: 'is only for a latency objective' })
  }
  if (!(fields.budget_warn_percent > fields.budget_critical_percent)) {
    problems.push({
      path: 'budget_warn_percent',
      message: `must be greater than budget_critical_percent (${fields.budget_critical_percent})`,
    })
  }
  fields.alert_policy?.forEach((rule, index) => {
    if ((LOOKBACK_ORDER.get(rule.short) ?? 0) >= (LOOKBACK_ORDER.get(rule.long) ?? 0)) {
      problems.push({ path: `alert_policy.${index}.short`, message: `must be shorter than long (${rule.long})` })
    }
  })
  return problems
}

/** The fields a create must give; the others have defaults. */
const REQUIRED_ON_CREATE = ['name', 'blog_id', 'sli', 'target', 'window'] as const

/**
 * A new objective's fields from its wire form: validated, with defaults (no endpoint, no threshold,
 * the default alert policy, budget thresholds 25 % and 10 %, active).
 * @throws {InvalidObjectiveError} naming each problem by its path.
 */
export function newObjectiveFields(input: unknown): ObjectiveFields {
  const parsed = parseObjectiveFields(input)
  const missing = REQUIRED_ON_CREATE.filter((field) => parsed[field] === undefined).map((path) => ({
    path,
    message: 'is required',
  }))
  if (missing.length > 0) throw new InvalidObjectiveError(missing)
  const fields: ObjectiveFields = {
    name: parsed.name as string,
    blog_id: parsed.blog_id as bigint,
    endpoint_id: parsed.endpoint_id ?? null,
    sli: parsed.sli as SliKind,
    latency_threshold_ms: parsed.latency_threshold_ms ?? null,
    target: parsed.target as number,
    window: parsed.window as ObjectiveWindow,
    alert_policy: parsed.alert_policy ?? null,
    budget_warn_percent: parsed.budget_warn_percent ?? DEFAULT_BUDGET_WARN_PERCENT,
    budget_critical_percent: parsed.budget_critical_percent ?? DEFAULT_BUDGET_CRITICAL_PERCENT,
    active: parsed.active ?? true,
  }
  const problems = objectiveProblems(fields)
  if (problems.length > 0) throw new InvalidObjectiveError(problems)
  return fields
}

/**
 * An objective's fields after a partial update: `changes` validated and laid over `current`
 * (a field given as null is cleared), then the rules between fields checked on the result.
 * @throws {InvalidObjectiveError} naming each problem by its path.
 */
export function mergedObjectiveFields(current: ObjectiveFields, changes: unknown): ObjectiveFields {
  const parsed = parseObjectiveFields(changes)
  const merged: ObjectiveFields = { ...current }
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value
  }
  const problems = objectiveProblems(merged)
  if (problems.length > 0) throw new InvalidObjectiveError(problems)
  return merged
}
