/**
 * Site statistics: uptime, response time, the per-phase timing breakdown and the vantages that
 * checked the site (docs/api.md, "Statistics"; docs/statistics.md).
 */
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { Id, IdParam, Timestamp, TimestampInput } from './schema.js'

const WINDOWS = ['1h', '24h', '7d', '30d', '90d'] as const

/**
 * The period of every statistics route: `window` (ending now) or `from` + `to`, exactly one of the
 * two forms; optionally one endpoint of the site instead of the whole site.
 */
const StatsQuery = v.strictObject({
  window: v.optional(
    v.pipe(
      v.picklist(WINDOWS, `must be one of ${WINDOWS.join(', ')}`),
      v.description('A window ending now. Give either window or from and to.'),
    ),
  ),
  from: v.optional(
    v.pipe(TimestampInput, v.description('Start (inclusive), with to; before to and at most 366 days before it.')),
  ),
  to: v.optional(
    v.pipe(
      TimestampInput,
      v.description(
        'End (exclusive), with from; at most 5 minutes ahead of the server clock (later times count up to now).',
      ),
    ),
  ),
  endpoint_id: v.optional(
    v.pipe(IdParam, v.description('One endpoint of the site (404 endpoint_not_found if it is not one of them).')),
  ),
})

/**
 * Whose checks a statistic reads: `local` (the monitor's own scheduled checks) or a veriflier id
 * (the checks that veriflier made in confirmation rounds).
 */
const VantageParam = v.pipe(
  v.string(),
  v.minLength(1, 'must be local or a veriflier id'),
  v.maxLength(64, 'must be at most 64 characters (local or a veriflier id)'),
  v.regex(/\S/, 'must be local or a veriflier id, not blank'),
  v.check((text) => !hasControlCharacter(text), 'must not contain control characters'),
  v.description(
    'Whose checks: local (default: the monitor’s own) or a veriflier id (the checks that veriflier made in ' +
      'confirmation rounds; raw history only, so only the part of the period inside HISTORY_RETENTION_DAYS).',
  ),
)

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

/** The period query plus the vantage: response time and timing breakdown. */
const VantageStatsQuery = v.strictObject({ ...StatsQuery.entries, vantage: v.optional(VantageParam) })

const Vantage = v.pipe(v.string(), v.description('Whose checks these figures describe: local or a veriflier id.'))

const StatsWindow = v.pipe(
  v.object({ from: Timestamp, to: Timestamp }),
  v.description('The period measured, `[from, to)`; `to` never later than the request time.'),
)

const Seconds = (description: string) => v.pipe(v.number(), v.minValue(0), v.description(description))
const NullableSeconds = (description: string) =>
  v.pipe(v.nullable(v.pipe(v.number(), v.minValue(0))), v.description(description))
const Ms = v.nullable(v.pipe(v.number(), v.minValue(0)))

/**
 * Uptime of a site (or one endpoint) over a period. Only monitored time counts: the period is cut
 * down to when the endpoint (for a site, any of its endpoints) existed and was active. Every
 * monitored second falls in at most one of maintenance, down, unknown, degraded, warning (in that
 * order of precedence); the rest is up.
 */
export const UptimeStats = v.object({
  window: StatsWindow,
  endpoint_id: v.pipe(v.nullable(Id), v.description('The endpoint measured; null for the whole site.')),
  uptime_percent: v.pipe(
    v.nullable(v.number()),
    v.description(
      '100 × (1 − down / (total − maintenance − unknown)); null when nothing was monitored in the period, or ' +
        'maintenance and unknown time cover all of it.',
    ),
  ),
  total_seconds: Seconds(
    'Monitored time in the period: from the endpoint’s creation on, less the time it was paused or deleted ' +
      '(for a site: while any of its endpoints was monitored). An endpoint with no recorded creation counts as ' +
      'existing all along; one made inactive by a writer other than the API counts as paused since its last check.',
  ),
  down_seconds: Seconds(
    'Time covered by events that reached Down, from their first failure (started_at) to their close (or now), clipped ' +
      'to the period, less each event’s own unknown time and the maintenance windows covering its endpoint. ' +
      'Overlapping events of several endpoints count once: the site is down while any endpoint is. Seems Down that ' +
      'was never confirmed (false alarms, probe_cleared) is not downtime.',
  ),
  degraded_seconds: Seconds('Time an event was open in state Degraded, excluding time already counted above.'),
  warning_seconds: Seconds('Time an event was open in state Warning, excluding time already counted above.'),
  maintenance_seconds: Seconds(
    'Time inside maintenance windows covering the scope: for one endpoint, windows of the site or of that endpoint; ' +
      'for the site, time every endpoint of the site was covered. Excluded from the uptime denominator.',
  ),
  unknown_seconds: Seconds(
    'Time we could not tell (never downtime): from a confirmation round that no quorum of verifliers answered (an inconclusive ' +
      '`veriflier_request` audit row of an event) until that event’s next transition, next conclusive round or close, ' +
      'outside maintenance and downtime. Excluded from the uptime denominator.',
  ),
  incident_count: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description('Events that reached Down (confirmed incidents) overlapping the period; one per endpoint event.'),
  ),
  mttr_seconds: NullableSeconds(
    'Mean duration (started_at to ended_at) of those incidents that have ended; null if none.',
  ),
  mtbf_seconds: NullableSeconds('(total − down) / incident_count, over monitored time; null without incidents.'),
  longest_incident_seconds: NullableSeconds(
    'Longest of those incidents, start to end (or to now while open), not clipped; null without incidents.',
  ),
})
export type UptimeStats = v.InferOutput<typeof UptimeStats>

/** Response-time percentiles of the successful checks of one vantage (local by default) over a period. */
export const ResponseTimeStats = v.object({
  window: StatsWindow,
  endpoint_id: v.nullable(Id),
  vantage: Vantage,
  samples: v.pipe(v.number(), v.integer(), v.minValue(0), v.description('Successful checks with a response time.')),
  p50_ms: Ms,
  p90_ms: Ms,
  p95_ms: Ms,
  p99_ms: Ms,
  max_ms: Ms,
  mean_ms: v.pipe(Ms, v.description('Exact mean (rounded to 0.01 ms); null without samples.')),
  source: v.pipe(
    v.picklist(['raw', 'rollup']),
    v.description(
      '`raw`: exact nearest-rank percentiles over check history. `rollup`: part of the period is beyond history ' +
        'retention (or history keeps failures only), so percentiles come from merged hourly histograms and are ' +
        'bucket upper edges (at most 4/3 of the true value). Always `raw` for a veriflier.',
    ),
  ),
})
export type ResponseTimeStats = v.InferOutput<typeof ResponseTimeStats>

const PhaseTiming = v.object({
  samples: v.pipe(v.number(), v.integer(), v.minValue(0), v.description('Checks that completed this phase.')),
  p50_ms: Ms,
  p95_ms: Ms,
  p99_ms: Ms,
  max_ms: Ms,
})

/** Per-phase timings of the successful checks of one vantage (local by default) over a period (raw history only). */
export const TimingBreakdownStats = v.object({
  window: StatsWindow,
  endpoint_id: v.nullable(Id),
  vantage: Vantage,
  samples: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.description(
      'Successful checks read. A veriflier reports only its total time, so its phases other than total are empty.',
    ),
  ),
  truncated: v.pipe(
    v.boolean(),
    v.description('True when the period held more than 50 000 successful checks: only the newest 50 000 were read.'),
  ),
  raw_from: v.pipe(
    v.nullable(Timestamp),
    v.description(
      'Where the history read began: phase timings exist only in raw history, kept for HISTORY_RETENTION_DAYS; ' +
        'null when none of the period is retained.',
    ),
  ),
  dns: PhaseTiming,
  connect: v.pipe(PhaseTiming, v.description('TCP connect.')),
  tls: v.pipe(PhaseTiming, v.description('TLS handshake (no samples for plain http).')),
  ttfb: v.pipe(PhaseTiming, v.description('Time to first byte.')),
  total: v.pipe(PhaseTiming, v.description('The whole check (its response time).')),
})
export type TimingBreakdownStats = v.InferOutput<typeof TimingBreakdownStats>

const Count = (description: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.description(description))

/** What one vantage saw of the site over the period. */
const VantageFigures = v.object({
  vantage: Vantage,
  checks: Count('Checks this vantage made in the period.'),
  failures: Count('Of those, checks that counted as downtime.'),
  last_checked_at: v.pipe(Timestamp, v.description('Its newest check in the period.')),
  samples: Count('Successful checks with a response time.'),
  truncated: v.pipe(
    v.boolean(),
    v.description('True when there were more than 50 000 samples: the percentiles cover the newest 50 000.'),
  ),
  p50_ms: v.pipe(
    Ms,
    v.description('Nearest-rank median response time of the successful checks; null without samples.'),
  ),
  p95_ms: v.pipe(Ms, v.description('Nearest-rank 95th percentile; null without samples.')),
})

/**
 * The vantages that checked a site (or one endpoint) over a period: the monitor itself (`local`)
 * and each veriflier that checked it in a confirmation round, from raw check history.
 */
export const VantageStats = v.object({
  window: StatsWindow,
  endpoint_id: v.nullable(Id),
  raw_from: v.pipe(
    v.nullable(Timestamp),
    v.description(
      'Where the history read began: the figures come from raw history, kept for HISTORY_RETENTION_DAYS; null ' +
        'when none of the period is retained. With HISTORY_MODE=failures only failed checks are kept.',
    ),
  ),
  vantages: v.pipe(
    v.array(VantageFigures),
    v.description('Every vantage with a check in the period: local first, then the verifliers by id.'),
  ),
})
export type VantageStats = v.InferOutput<typeof VantageStats>

const SiteParams = v.object({ blog_id: IdParam })
const STATS_ERRORS = ['site_not_found', 'endpoint_not_found'] as const

const uptime = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/uptime',
  scope: 'read',
  tag: 'statistics',
  summary: 'Uptime, downtime and incident figures of a site (or one endpoint) over a period',
  params: SiteParams,
  query: StatsQuery,
  status: 200,
  response: UptimeStats,
  errors: STATS_ERRORS,
})

const responseTime = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/response-time',
  scope: 'read',
  tag: 'statistics',
  summary: 'Response-time percentiles of a site (or one endpoint) over a period, locally or from one veriflier',
  params: SiteParams,
  query: VantageStatsQuery,
  status: 200,
  response: ResponseTimeStats,
  errors: STATS_ERRORS,
})

const timingBreakdown = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/timing-breakdown',
  scope: 'read',
  tag: 'statistics',
  summary: 'DNS, connect, TLS, first-byte and total time percentiles of a site (or one endpoint) over a period',
  params: SiteParams,
  query: VantageStatsQuery,
  status: 200,
  response: TimingBreakdownStats,
  errors: STATS_ERRORS,
})

const vantages = defineRoute({
  method: 'GET',
  path: '/sites/{blog_id}/vantages',
  scope: 'read',
  tag: 'statistics',
  summary: 'Which vantages (the monitor and each veriflier) checked a site over a period, and how they fared',
  params: SiteParams,
  query: StatsQuery,
  status: 200,
  response: VantageStats,
  errors: STATS_ERRORS,
})

export const statsRoutes = {
  'stats.uptime': uptime,
  'stats.responseTime': responseTime,
  'stats.timingBreakdown': timingBreakdown,
  'stats.vantages': vantages,
}
