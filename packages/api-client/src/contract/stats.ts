/** Site statistics: uptime, response time and the per-phase timing breakdown (docs/api.md, "Statistics"; docs/statistics.md). */
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

/** Response-time percentiles of the successful local checks over a period. */
export const ResponseTimeStats = v.object({
  window: StatsWindow,
  endpoint_id: v.nullable(Id),
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
        'bucket upper edges (at most 4/3 of the true value).',
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

/** Per-phase timings of the successful local checks over a period (raw history only). */
export const TimingBreakdownStats = v.object({
  window: StatsWindow,
  endpoint_id: v.nullable(Id),
  samples: v.pipe(v.number(), v.integer(), v.minValue(0), v.description('Successful local checks read.')),
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
  summary: 'Response-time percentiles of a site (or one endpoint) over a period',
  params: SiteParams,
  query: StatsQuery,
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
  query: StatsQuery,
  status: 200,
  response: TimingBreakdownStats,
  errors: STATS_ERRORS,
})

export const statsRoutes = {
  'stats.uptime': uptime,
  'stats.responseTime': responseTime,
  'stats.timingBreakdown': timingBreakdown,
}
