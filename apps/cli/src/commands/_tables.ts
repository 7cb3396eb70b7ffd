/** How people see the answers of the resource commands (JSON output prints them as they came). */
import { bar, formatTable, formatValue, sparkline } from '../output.js'

type Row = Record<string, unknown>
const asRow = (value: unknown): Row => (typeof value === 'object' && value !== null ? (value as Row) : {})

/** Fields of an object except the listed ones, as `field value` lines. */
function fieldsWithout(data: Row, omit: readonly string[]): Row {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !omit.includes(key)))
}

function section(title: string, rows: unknown, columns: readonly string[]): string {
  const list = Array.isArray(rows) ? rows : []
  return `${title.toUpperCase()} (${list.length})\n${list.length === 0 ? '(none)' : formatValue(list, { columns })}`
}

export const SITE_COLUMNS = [
  'blog_id',
  'current_state',
  'current_severity',
  'active_event_id',
  'endpoint_count',
  'monitor_active',
  'monitor_url',
  'last_checked_at',
] as const

export const ENDPOINT_COLUMNS = [
  'endpoint_id',
  'blog_id',
  'monitor_url',
  'monitor_active',
  'current_state',
  'active_event_id',
  'check_interval_sec',
  'request_method',
  'detection_profile',
  'runtime.last_checked_at',
  'runtime.last_http_code',
] as const

const SITE_EVENT_COLUMNS = ['id', 'endpoint_id', 'check_type', 'state', 'severity', 'started_at'] as const

/** A site: its summary fields, then its endpoints and open events as tables. */
export function siteTable(data: unknown): string {
  const site = asRow(data)
  return [
    formatValue(fieldsWithout(site, ['endpoints', 'active_events'])),
    section('endpoints', site.endpoints, ENDPOINT_COLUMNS),
    section('active events', site.active_events, SITE_EVENT_COLUMNS),
  ].join('\n\n')
}

export const EVENT_COLUMNS = [
  'id',
  'blog_id',
  'endpoint_id',
  'check_type',
  'state',
  'severity_name',
  'started_at',
  'ended_at',
  'resolution_reason',
  'duration_ms',
] as const

export const TRANSITION_COLUMNS = [
  'id',
  'changed_at',
  'state_before',
  'state_after',
  'severity_before',
  'severity_after',
  'reason',
  'source',
] as const

/** An event: its fields, then its transitions. */
export function eventTable(data: unknown): string {
  const event = asRow(data)
  return [
    formatValue(fieldsWithout(event, ['transitions'])),
    section('transitions', event.transitions, TRANSITION_COLUMNS),
  ].join('\n\n')
}

export const MAINTENANCE_COLUMNS = [
  'id',
  'blog_id',
  'endpoint_id',
  'status',
  'starts_at',
  'ends_at',
  'reason',
  'created_by',
] as const

export const WEBHOOK_COLUMNS = [
  'id',
  'url',
  'active',
  'events',
  'site_filter.blog_ids',
  'state_filter.states',
  'secret_preview',
  'created_at',
] as const

export const ALERT_CONTACT_COLUMNS = [
  'id',
  'label',
  'transport',
  'active',
  'min_severity',
  'max_per_hour',
  'destination_preview',
  'site_filter.blog_ids',
] as const

export const DELIVERY_COLUMNS = [
  'id',
  'event_id',
  'blog_id',
  'event_type',
  'status',
  'attempt',
  'last_status_code',
  'last_attempt_at',
  'next_attempt_at',
  'delivered_at',
] as const

/** A webhook with its secret, shown once (create, rotate-secret). */
export function webhookSecretTable(data: unknown): string {
  const answer = asRow(data)
  return [
    formatValue(answer.webhook),
    formatTable(['secret', 'note'], [[String(answer.secret ?? ''), 'shown this once: store it now']]),
  ].join('\n\n')
}

/** Uptime figures, with a bar for the percentage. */
export function uptimeTable(data: unknown): string {
  const stats = asRow(data)
  const percent = typeof stats.uptime_percent === 'number' ? stats.uptime_percent : null
  const meter =
    percent === null
      ? 'uptime  n/a (maintenance and unknown time cover the whole period)'
      : `uptime  ${bar(percent, 100, 30).padEnd(30)}  ${percent}%`
  return `${formatValue(stats)}\n\n${meter}`
}

const PERCENTILES = ['p50_ms', 'p90_ms', 'p95_ms', 'p99_ms', 'max_ms'] as const

/** Percentiles as bars against the slowest, one line each: `p95  ████████▌   183 ms`. */
export function percentileBars(stats: Row, keys: readonly string[], width = 30): string {
  const values = keys.map((key) => (typeof stats[key] === 'number' ? (stats[key] as number) : null))
  const max = Math.max(0, ...values.map((value) => value ?? 0))
  const label = Math.max(...keys.map((key) => key.replace(/_ms$/, '').length))
  return keys
    .map((key, i) => {
      const value = values[i] ?? null
      const name = key.replace(/_ms$/, '').padEnd(label)
      return value === null
        ? `${name}  ${' '.repeat(width)}  -`
        : `${name}  ${bar(value, max, width).padEnd(width)}  ${value} ms`
    })
    .join('\n')
}

/** Response-time figures, a sparkline p50→max and a bar per percentile. */
export function responseTimeTable(data: unknown): string {
  const stats = asRow(data)
  const values = PERCENTILES.map((key) => stats[key]).filter((value): value is number => typeof value === 'number')
  const parts = [formatValue(stats)]
  if (values.length > 0) {
    parts.push(`p50→max  ${sparkline(values)}`)
    parts.push(percentileBars(stats, [...PERCENTILES, 'mean_ms']))
  } else parts.push('no successful checks with a response time in this period')
  return parts.join('\n\n')
}

const PHASES = ['dns', 'connect', 'tls', 'ttfb', 'total'] as const

/** Per-phase percentiles as a table, with a bar of each phase's p95 against the total's. */
export function timingBreakdownTable(data: unknown): string {
  const stats = asRow(data)
  const phaseOf = (name: string) => asRow(stats[name])
  const scale = Math.max(0, ...PHASES.map((name) => Number(phaseOf(name).p95_ms ?? 0)))
  const rows = PHASES.map((name) => {
    const phase = phaseOf(name)
    const cell = (key: string) => (phase[key] === null || phase[key] === undefined ? '' : String(phase[key]))
    const p95 = typeof phase.p95_ms === 'number' ? phase.p95_ms : 0
    return [name, cell('samples'), cell('p50_ms'), cell('p95_ms'), cell('p99_ms'), cell('max_ms'), bar(p95, scale, 20)]
  })
  return [
    formatValue(fieldsWithout(stats, PHASES)),
    formatTable(['phase', 'samples', 'p50_ms', 'p95_ms', 'p99_ms', 'max_ms', 'p95'], rows),
  ].join('\n\n')
}

const VANTAGE_COLUMNS = ['vantage', 'checks', 'failures', 'last_checked_at', 'samples', 'p50_ms', 'p95_ms'] as const

/** The vantages that checked a site: the period, then one row per vantage. */
export function vantagesTable(data: unknown): string {
  const stats = asRow(data)
  return [formatValue(fieldsWithout(stats, ['vantages'])), section('vantages', stats.vantages, VANTAGE_COLUMNS)].join(
    '\n\n',
  )
}
