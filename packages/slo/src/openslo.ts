/**
 * SLOs as code: objectives as OpenSLO v1 documents and back. One objective is one `SLO` document
 * with its SLI inline (`spec.indicator`, a `thresholdMetric` whose metric source is of type
 * `Jetmon`) and its alert policy inline (`spec.alertPolicies`, burn-rate conditions), or a
 * reference to Jetmon's default policy (`alertPolicyRef: jetmon-default`).
 *
 * Reading a document checks every part Jetmon uses and names each problem by its path in the
 * document stream (`0.spec.objectives.0.target`); fields of OpenSLO that Jetmon cannot honour are
 * refused rather than silently dropped, so that what is reviewed in git is what is measured.
 */
import { dump, loadAll } from 'js-yaml'
import { InvalidObjectiveError, type ObjectiveIssue } from './errors.js'
import { type AlertRuleFields, newObjectiveFields, type ObjectiveFields } from './objectives.js'
import { type Objective, objectiveFields } from './store.js'
import { OBJECTIVE_WINDOWS, type ObjectiveWindow } from './windows.js'

export const OPENSLO_API_VERSION = 'openslo/v1'
/** The metric source type of Jetmon's indicators. */
export const OPENSLO_SOURCE_TYPE = 'Jetmon'
/** `alertPolicyRef` naming Jetmon's default multiwindow burn-rate policy. */
export const DEFAULT_POLICY_REF = 'jetmon-default'
/** Annotations carrying the budget alert thresholds, which OpenSLO has no field for. */
export const BUDGET_WARN_ANNOTATION = 'jetmon/budget-warn-percent'
export const BUDGET_CRITICAL_ANNOTATION = 'jetmon/budget-critical-percent'

/** An OpenSLO document as plain data (what YAML or JSON parsing yields). */
export type OpenSloDocument = Record<string, unknown>

const CALENDAR: Record<string, ObjectiveWindow> = { '1M': 'month', '1Q': 'quarter' }
const ROLLING = new Set<string>(OBJECTIVE_WINDOWS.filter((window) => /^\d+d$/.test(window)))

/** A DNS-label-like name for the inline SLI and alert policy (`Shop: checkout` → `shop-checkout`). */
function slug(text: string, fallback: string): string {
  const out = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '')
  return out === '' ? fallback : out
}

const idValue = (id: bigint): number | string => (id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id.toString())

/** `99.9` → `0.999`, exactly as written (a target has at most three decimals). */
const fractionOf = (percent: number): number => Number((percent / 100).toFixed(5))

/** The objective as its OpenSLO v1 `SLO` document. */
export function objectiveToOpenSlo(objective: Objective): OpenSloDocument {
  const fields = objectiveFields(objective)
  const base = slug(fields.name, `objective-${objective.id}`)
  const source: Record<string, unknown> = { sli: fields.sli, blogId: idValue(fields.blog_id) }
  if (fields.endpoint_id !== null) source.endpointId = idValue(fields.endpoint_id)
  if (fields.latency_threshold_ms !== null) source.latencyThresholdMs = fields.latency_threshold_ms
  const calendar = Object.entries(CALENDAR).find(([, window]) => window === fields.window)?.[0]
  return {
    apiVersion: OPENSLO_API_VERSION,
    kind: 'SLO',
    metadata: {
      name: fields.name,
      annotations: {
        [BUDGET_WARN_ANNOTATION]: String(fields.budget_warn_percent),
        [BUDGET_CRITICAL_ANNOTATION]: String(fields.budget_critical_percent),
      },
    },
    spec: {
      service: `blog-${fields.blog_id}`,
      indicator: {
        metadata: { name: `${base}-sli` },
        spec: { thresholdMetric: { metricSource: { type: OPENSLO_SOURCE_TYPE, spec: source } } },
      },
      timeWindow: [
        calendar
          ? { duration: calendar, isRolling: false, calendar: { startTime: '2020-01-01 00:00:00', timeZone: 'UTC' } }
          : { duration: fields.window, isRolling: true },
      ],
      budgetingMethod: fields.sli === 'availability' ? 'Timeslices' : 'Occurrences',
      objectives: [{ target: fractionOf(fields.target) }],
      alertPolicies:
        fields.alert_policy === null
          ? [{ alertPolicyRef: DEFAULT_POLICY_REF }]
          : [
              {
                kind: 'AlertPolicy',
                metadata: { name: `${base}-burn-rate` },
                spec: {
                  conditions: fields.alert_policy.map((rule) => ({
                    kind: 'AlertCondition',
                    metadata: { name: `${rule.severity}-${rule.long}-${rule.short}` },
                    spec: {
                      severity: rule.severity,
                      condition: {
                        kind: 'burnrate',
                        op: 'gt',
                        threshold: rule.burn_rate,
                        lookbackWindow: rule.long,
                        alertAfter: rule.short,
                      },
                    },
                  })),
                },
              },
            ],
    },
  }
}

/** Documents as a YAML stream (`---` between documents). */
export function openSloYaml(documents: readonly OpenSloDocument[]): string {
  return documents.map((document) => dump(document, { lineWidth: -1 } as never)).join('---\n')
}

/**
 * The documents of a request or a file: YAML (one document or a `---` stream; JSON is YAML too)
 * given as text, or already-parsed data (one document, or a list of them). Empty documents of a
 * stream are skipped.
 * @throws {InvalidObjectiveError} when the text is not YAML (path `''`, with the line).
 */
export function openSloDocuments(input: unknown): unknown[] {
  if (typeof input === 'string') {
    let parsed: unknown[]
    try {
      parsed = loadAll(input)
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
      throw new InvalidObjectiveError([{ path: '', message: `is not valid YAML or JSON: ${reason}` }])
    }
    const documents = parsed.filter((document) => document !== null && document !== undefined)
    // A stream holding one list of documents (a JSON array) is that list.
    return documents.length === 1 && Array.isArray(documents[0]) ? (documents[0] as unknown[]) : documents
  }
  return Array.isArray(input) ? input : [input]
}

/** One objective read from a document: its index in the stream, and its fields. */
export interface OpenSloObjective {
  index: number
  fields: ObjectiveFields
}

type Issues = ObjectiveIssue[]

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Reports keys of `value` outside `allowed` (with why, when `refused` says). */
function onlyKeys(
  value: Record<string, unknown>,
  path: string,
  allowed: readonly string[],
  issues: Issues,
  refused: Record<string, string> = {},
): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue
    issues.push({ path: `${path}.${key}`, message: refused[key] ?? 'is not a field Jetmon reads here' })
  }
}

function recordAt(parent: Record<string, unknown>, key: string, path: string, issues: Issues, required = true) {
  const value = parent[key]
  if (value === undefined) {
    if (required) issues.push({ path: `${path}.${key}`, message: 'is required' })
    return undefined
  }
  if (!isRecord(value)) {
    issues.push({ path: `${path}.${key}`, message: 'must be a mapping (an object)' })
    return undefined
  }
  return value
}

function listAt(parent: Record<string, unknown>, key: string, path: string, issues: Issues, required = true) {
  const value = parent[key]
  if (value === undefined) {
    if (required) issues.push({ path: `${path}.${key}`, message: 'is required' })
    return undefined
  }
  if (!Array.isArray(value)) {
    issues.push({ path: `${path}.${key}`, message: 'must be a list' })
    return undefined
  }
  return value as unknown[]
}

/** {@link recordAt}, then {@link onlyKeys} on what it found. */
function section(
  parent: Record<string, unknown>,
  key: string,
  path: string,
  allowed: readonly string[],
  issues: Issues,
  refused: Record<string, string> = {},
): Record<string, unknown> | undefined {
  const value = recordAt(parent, key, path, issues)
  if (value) onlyKeys(value, `${path}.${key}`, allowed, issues, refused)
  return value
}

/** A number given as a number or a numeric string (annotations are strings). */
function numberOf(value: unknown): unknown {
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim())
  return value
}

/** Where each objective field lives in a document, for reporting the objective's own checks. */
interface FieldPaths {
  [field: string]: string
}

/** The alert rules of `spec.alertPolicies`, or null for the default policy. */
function rulesOf(
  policies: unknown[] | undefined,
  path: string,
  issues: Issues,
  paths: FieldPaths,
): AlertRuleFields[] | null | undefined {
  if (policies === undefined) return null
  if (policies.length === 0) {
    issues.push({ path, message: `must list at least one policy (or { alertPolicyRef: ${DEFAULT_POLICY_REF} })` })
    return undefined
  }
  let usesDefault = false
  const rules: unknown[] = []
  policies.forEach((policy, p) => {
    const at = `${path}.${p}`
    if (!isRecord(policy)) {
      issues.push({ path: at, message: 'must be an inline AlertPolicy or an alertPolicyRef' })
      return
    }
    if ('alertPolicyRef' in policy) {
      onlyKeys(policy, at, ['alertPolicyRef'], issues)
      if (policy.alertPolicyRef !== DEFAULT_POLICY_REF) {
        issues.push({
          path: `${at}.alertPolicyRef`,
          message: `must be ${DEFAULT_POLICY_REF} (Jetmon's default policy); put other policies inline`,
        })
      }
      usesDefault = true
      return
    }
    onlyKeys(policy, at, ['apiVersion', 'kind', 'metadata', 'spec'], issues)
    if (policy.kind !== 'AlertPolicy') issues.push({ path: `${at}.kind`, message: 'must be AlertPolicy' })
    if (policy.apiVersion !== undefined && policy.apiVersion !== OPENSLO_API_VERSION) {
      issues.push({ path: `${at}.apiVersion`, message: `must be ${OPENSLO_API_VERSION}` })
    }
    const spec = recordAt(policy, 'spec', at, issues)
    if (!spec) return
    onlyKeys(
      spec,
      `${at}.spec`,
      ['description', 'alertWhenNoData', 'alertWhenResolved', 'alertWhenBreaching', 'conditions'],
      issues,
      { notificationTargets: 'is not read: Jetmon alerts go to its webhooks and alert contacts' },
    )
    const conditions = listAt(spec, 'conditions', `${at}.spec`, issues)
    conditions?.forEach((condition, c) => {
      const cat = `${at}.spec.conditions.${c}`
      if (!isRecord(condition)) {
        issues.push({ path: cat, message: 'must be an inline AlertCondition' })
        return
      }
      onlyKeys(condition, cat, ['apiVersion', 'kind', 'metadata', 'spec'], issues, {
        conditionRef: 'must be inline: Jetmon does not read separate AlertCondition documents',
      })
      if ('conditionRef' in condition) return
      if (condition.kind !== 'AlertCondition') issues.push({ path: `${cat}.kind`, message: 'must be AlertCondition' })
      const cspec = recordAt(condition, 'spec', cat, issues)
      if (!cspec) return
      onlyKeys(cspec, `${cat}.spec`, ['description', 'severity', 'condition'], issues)
      const rule = recordAt(cspec, 'condition', `${cat}.spec`, issues)
      if (!rule) return
      const rat = `${cat}.spec.condition`
      onlyKeys(rule, rat, ['kind', 'op', 'threshold', 'lookbackWindow', 'alertAfter'], issues)
      if (rule.kind !== 'burnrate') issues.push({ path: `${rat}.kind`, message: 'must be burnrate' })
      if (rule.op !== undefined && rule.op !== 'gt') {
        issues.push({
          path: `${rat}.op`,
          message: 'must be gt (a rule fires when the burn rate exceeds its threshold)',
        })
      }
      const index = rules.length
      paths[`alert_policy.${index}.severity`] = `${cat}.spec.severity`
      paths[`alert_policy.${index}.burn_rate`] = `${rat}.threshold`
      paths[`alert_policy.${index}.long`] = `${rat}.lookbackWindow`
      paths[`alert_policy.${index}.short`] = `${rat}.alertAfter`
      paths[`alert_policy.${index}`] = cat
      rules.push({
        severity: cspec.severity,
        burn_rate: rule.threshold,
        long: rule.lookbackWindow,
        short: rule.alertAfter,
      })
    })
  })
  if (usesDefault && rules.length > 0) {
    issues.push({ path, message: `must be either ${DEFAULT_POLICY_REF} or inline policies, not both` })
    return undefined
  }
  return usesDefault ? null : (rules as AlertRuleFields[])
}

/** Reads one document's objective fields (in wire form), collecting problems by path. */
function readDocument(document: unknown, at: string, issues: Issues, paths: FieldPaths): Record<string, unknown> {
  const wire: Record<string, unknown> = {}
  if (!isRecord(document)) {
    issues.push({ path: at, message: 'must be an OpenSLO document (a mapping)' })
    return wire
  }
  onlyKeys(document, at, ['apiVersion', 'kind', 'metadata', 'spec'], issues)
  if (document.apiVersion !== OPENSLO_API_VERSION) {
    issues.push({ path: `${at}.apiVersion`, message: `must be ${OPENSLO_API_VERSION}` })
  }
  if (document.kind !== 'SLO') {
    issues.push({
      path: `${at}.kind`,
      message: 'must be SLO (Jetmon reads SLO documents, with their SLI and alert policy inline)',
    })
    return wire
  }
  const metadata = recordAt(document, 'metadata', at, issues)
  if (metadata) {
    onlyKeys(metadata, `${at}.metadata`, ['name', 'displayName', 'labels', 'annotations'], issues)
    paths.name = `${at}.metadata.name`
    wire.name = metadata.name
    const annotations = recordAt(metadata, 'annotations', `${at}.metadata`, issues, false)
    if (annotations?.[BUDGET_WARN_ANNOTATION] !== undefined) {
      wire.budget_warn_percent = numberOf(annotations[BUDGET_WARN_ANNOTATION])
    }
    if (annotations?.[BUDGET_CRITICAL_ANNOTATION] !== undefined) {
      wire.budget_critical_percent = numberOf(annotations[BUDGET_CRITICAL_ANNOTATION])
    }
    paths.budget_warn_percent = `${at}.metadata.annotations.${BUDGET_WARN_ANNOTATION}`
    paths.budget_critical_percent = `${at}.metadata.annotations.${BUDGET_CRITICAL_ANNOTATION}`
  }
  const spec = recordAt(document, 'spec', at, issues)
  if (!spec) return wire
  const sat = `${at}.spec`
  onlyKeys(
    spec,
    sat,
    ['description', 'service', 'indicator', 'timeWindow', 'budgetingMethod', 'objectives', 'alertPolicies'],
    issues,
    { indicatorRef: 'must be inline (spec.indicator): Jetmon does not read separate SLI documents' },
  )
  if (spec.service !== undefined && typeof spec.service !== 'string') {
    issues.push({ path: `${sat}.service`, message: 'must be a string' })
  }

  // The indicator: which site or endpoint, which SLI.
  if (!('indicatorRef' in spec)) {
    const iat = `${sat}.indicator`
    const indicator = section(spec, 'indicator', sat, ['metadata', 'spec'], issues)
    const ispec =
      indicator &&
      section(indicator, 'spec', iat, ['description', 'thresholdMetric'], issues, {
        ratioMetric: 'is not read: Jetmon indicators are a thresholdMetric with metricSource type Jetmon',
      })
    const metric = ispec && section(ispec, 'thresholdMetric', `${iat}.spec`, ['metricSource'], issues)
    const mat = `${iat}.spec.thresholdMetric`
    const source = metric && recordAt(metric, 'metricSource', mat, issues)
    if (source) {
      const srcAt = `${mat}.metricSource`
      onlyKeys(source, srcAt, ['type', 'spec', 'metricSourceRef'], issues)
      if (source.type !== OPENSLO_SOURCE_TYPE) {
        issues.push({ path: `${srcAt}.type`, message: `must be ${OPENSLO_SOURCE_TYPE}` })
      }
      const sspec = recordAt(source, 'spec', srcAt, issues)
      if (sspec) {
        onlyKeys(sspec, `${srcAt}.spec`, ['sli', 'blogId', 'endpointId', 'latencyThresholdMs'], issues)
        const fields = {
          sli: 'sli',
          blogId: 'blog_id',
          endpointId: 'endpoint_id',
          latencyThresholdMs: 'latency_threshold_ms',
        }
        for (const [key, field] of Object.entries(fields)) {
          paths[field] = `${srcAt}.spec.${key}`
          if (sspec[key] !== undefined) wire[field] = sspec[key]
        }
      }
    }
  }

  // The window: rolling days, or a calendar month or quarter (UTC).
  const windows = listAt(spec, 'timeWindow', sat, issues)
  paths.window = `${sat}.timeWindow.0.duration`
  if (windows && windows.length !== 1) {
    issues.push({ path: `${sat}.timeWindow`, message: 'must hold exactly one window' })
  } else if (windows) {
    const wat = `${sat}.timeWindow.0`
    const window = windows[0]
    if (!isRecord(window)) issues.push({ path: wat, message: 'must be a mapping: { duration, isRolling }' })
    else {
      onlyKeys(window, wat, ['duration', 'isRolling', 'calendar'], issues)
      const duration = window.duration
      const calendarWindow = typeof duration === 'string' ? CALENDAR[duration] : undefined
      const rolling = window.isRolling ?? calendarWindow === undefined
      if (typeof rolling !== 'boolean') issues.push({ path: `${wat}.isRolling`, message: 'must be true or false' })
      else if (calendarWindow !== undefined) {
        if (rolling)
          issues.push({ path: `${wat}.isRolling`, message: `must be false: ${duration} is a calendar window` })
        const calendar = window.calendar
        if (calendar !== undefined) {
          if (!isRecord(calendar)) issues.push({ path: `${wat}.calendar`, message: 'must be a mapping' })
          else {
            onlyKeys(calendar, `${wat}.calendar`, ['startTime', 'timeZone'], issues)
            if (calendar.timeZone !== undefined && calendar.timeZone !== 'UTC') {
              issues.push({
                path: `${wat}.calendar.timeZone`,
                message: 'must be UTC (calendar windows are UTC months and quarters)',
              })
            }
          }
        }
        wire.window = calendarWindow
      } else if (typeof duration === 'string' && ROLLING.has(duration)) {
        if (!rolling) {
          issues.push({
            path: `${wat}.isRolling`,
            message: `must be true: ${duration} is a rolling window (calendar: 1M, 1Q)`,
          })
        }
        if (window.calendar !== undefined) issues.push({ path: `${wat}.calendar`, message: 'is only for 1M and 1Q' })
        wire.window = duration
      } else {
        issues.push({
          path: `${wat}.duration`,
          message: `must be one of ${[...ROLLING].join(', ')} (rolling) or ${Object.keys(CALENDAR).join(', ')} (calendar, UTC)`,
        })
      }
    }
  }

  // The target, as OpenSLO writes it (a fraction) or as a percent.
  const objectives = listAt(spec, 'objectives', sat, issues)
  if (objectives && objectives.length !== 1) {
    issues.push({ path: `${sat}.objectives`, message: 'must hold exactly one objective (one target per SLO)' })
  } else if (objectives) {
    const oat = `${sat}.objectives.0`
    const objective = objectives[0]
    if (!isRecord(objective)) issues.push({ path: oat, message: 'must be a mapping: { target }' })
    else {
      onlyKeys(objective, oat, ['displayName', 'target', 'targetPercent'], issues)
      if ((objective.target === undefined) === (objective.targetPercent === undefined)) {
        issues.push({ path: `${oat}.target`, message: 'give target (a fraction, 0.999) or targetPercent (99.9)' })
      } else if (objective.target !== undefined) {
        paths.target = `${oat}.target`
        const target = objective.target
        if (typeof target !== 'number' || !(target > 0 && target < 1)) {
          issues.push({ path: paths.target, message: 'must be a fraction between 0 and 1 (0.999 for 99.9 %)' })
        } else {
          const percent = Number((target * 100).toFixed(3))
          if (Math.abs(percent - target * 100) > 1e-9) {
            issues.push({ path: paths.target, message: 'must have at most 5 decimals (0.99995 for 99.995 %)' })
          } else wire.target = percent
        }
      } else {
        paths.target = `${oat}.targetPercent`
        wire.target = objective.targetPercent
      }
    }
  }

  const rules = rulesOf(listAt(spec, 'alertPolicies', sat, issues, false), `${sat}.alertPolicies`, issues, paths)
  if (rules !== undefined) wire.alert_policy = rules

  // The budgeting method, when given, must be the one the SLI counts with.
  const method = spec.budgetingMethod
  if (method !== undefined && typeof wire.sli === 'string') {
    const expected = wire.sli === 'availability' ? 'Timeslices' : 'Occurrences'
    if (method !== expected) {
      issues.push({
        path: `${sat}.budgetingMethod`,
        message: `must be ${expected}: ${wire.sli === 'availability' ? 'availability counts time' : 'latency counts checks'}`,
      })
    }
  }
  return wire
}

/**
 * The objectives of OpenSLO v1 documents (see {@link openSloDocuments} for the input), each
 * validated as an objective is on create (names up to 128 characters, targets of at most three
 * decimals, the rules between fields); two documents may not name the same objective.
 * @throws {InvalidObjectiveError} naming every problem by its path (`1.spec.timeWindow.0.duration`).
 */
export function objectivesFromOpenSlo(input: unknown): OpenSloObjective[] {
  const documents = openSloDocuments(input)
  const issues: Issues = []
  if (documents.length === 0) throw new InvalidObjectiveError([{ path: '', message: 'holds no documents' }])
  const out: OpenSloObjective[] = []
  const names = new Map<string, number>()
  documents.forEach((document, index) => {
    const mine: Issues = []
    const paths: FieldPaths = {}
    const wire = readDocument(document, String(index), mine, paths)
    if (mine.length > 0) {
      issues.push(...mine)
      return
    }
    try {
      out.push({ index, fields: newObjectiveFields(wire) })
    } catch (error) {
      if (!(error instanceof InvalidObjectiveError)) throw error
      for (const issue of error.issues) {
        issues.push({ path: documentPath(issue.path, paths, String(index)), message: issue.message })
      }
      return
    }
    const key = String(wire.name).toLowerCase()
    const first = names.get(key)
    if (first !== undefined) {
      issues.push({ path: `${index}.metadata.name`, message: `names the same objective as document ${first}` })
    } else names.set(key, index)
  })
  if (issues.length > 0) throw new InvalidObjectiveError(issues)
  return out
}

/** The document path of an objective field's problem (`target` → `0.spec.objectives.0.target`). */
export function documentPath(field: string, paths: FieldPaths, at: string): string {
  if (paths[field]) return paths[field]
  // `alert_policy.2.burn_rate` and the like: the longest known prefix.
  const parts = field.split('.')
  for (let length = parts.length - 1; length > 0; length--) {
    const prefix = parts.slice(0, length).join('.')
    if (paths[prefix]) return [paths[prefix], ...parts.slice(length)].join('.')
  }
  return field === '' ? at : `${at}.${field}`
}

/** Keys of {@link ObjectiveFields} whose values a document sets (everything but `active`). */
export const DOCUMENT_FIELDS = [
  'name',
  'blog_id',
  'endpoint_id',
  'sli',
  'latency_threshold_ms',
  'target',
  'window',
  'alert_policy',
  'budget_warn_percent',
  'budget_critical_percent',
] as const satisfies readonly (keyof ObjectiveFields)[]

/** Where each objective field of a document lives, for problems found against the database. */
export function documentFieldPath(field: (typeof DOCUMENT_FIELDS)[number], index: number): string {
  const source = `${index}.spec.indicator.spec.thresholdMetric.metricSource.spec`
  switch (field) {
    case 'name':
      return `${index}.metadata.name`
    case 'blog_id':
      return `${source}.blogId`
    case 'endpoint_id':
      return `${source}.endpointId`
    default:
      return `${index}`
  }
}
