import { jsonId, type statsRoutes } from '@jetmon/api-client'
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  LOCAL_VANTAGE,
  timingBreakdown,
  uptimeAndLatency,
  vantageSummary,
} from '@jetmon/history'
import { computeUptime, loadUptimeInput, type StatsPeriod } from '@jetmon/read-models'
import type { Handlers } from '../context.js'
import { resolvePeriod, resolveScope } from './_stats-scope.js'

const seconds = (ms: number) => ms / 1000
const nullableSeconds = (ms: number | null) => (ms === null ? null : ms / 1000)
const round = (value: number | null, digits: number) =>
  value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits

const windowJson = (period: StatsPeriod) => ({ from: period.from.toISOString(), to: period.to.toISOString() })

export const statsHandlers: Handlers<typeof statsRoutes> = {
  async 'stats.uptime'(ctx) {
    const { params, query, deps, now } = ctx
    const period = resolvePeriod(query, now)
    const scope = await resolveScope(ctx, params.blog_id, query.endpoint_id)
    const figures = computeUptime(await loadUptimeInput({ ctx: { db: deps.db }, scope, period, now }))
    return {
      window: windowJson(period),
      endpoint_id: scope.endpointId === null ? null : jsonId(scope.endpointId),
      uptime_percent: round(figures.uptimePercent, 6),
      total_seconds: seconds(figures.totalMs),
      down_seconds: seconds(figures.downMs),
      degraded_seconds: seconds(figures.degradedMs),
      warning_seconds: seconds(figures.warningMs),
      maintenance_seconds: seconds(figures.maintenanceMs),
      unknown_seconds: seconds(figures.unknownMs),
      incident_count: figures.incidentCount,
      mttr_seconds: round(nullableSeconds(figures.mttrMs), 3),
      mtbf_seconds: round(nullableSeconds(figures.mtbfMs), 3),
      longest_incident_seconds: nullableSeconds(figures.longestIncidentMs),
    }
  },

  async 'stats.responseTime'(ctx) {
    const { params, query, deps, now } = ctx
    const period = resolvePeriod(query, now)
    const vantage = query.vantage ?? LOCAL_VANTAGE
    const scope = await resolveScope(ctx, params.blog_id, query.endpoint_id)
    const stats = await uptimeAndLatency({
      ctx: { db: deps.db, clock: () => now },
      endpointIds: scope.endpointIds,
      from: period.from,
      to: period.to,
      retentionDays: deps.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS,
      historyMode: deps.historyMode ?? 'all',
      vantage,
    })
    return {
      window: windowJson(period),
      endpoint_id: scope.endpointId === null ? null : jsonId(scope.endpointId),
      vantage,
      samples: stats.rttSamples,
      p50_ms: stats.p50Ms,
      p90_ms: stats.p90Ms,
      p95_ms: stats.p95Ms,
      p99_ms: stats.p99Ms,
      max_ms: stats.maxMs,
      mean_ms: round(stats.meanMs, 2),
      source: stats.source,
    }
  },

  async 'stats.timingBreakdown'(ctx) {
    const { params, query, deps, now } = ctx
    const period = resolvePeriod(query, now)
    const vantage = query.vantage ?? LOCAL_VANTAGE
    const scope = await resolveScope(ctx, params.blog_id, query.endpoint_id)
    const breakdown = await timingBreakdown({
      ctx: { db: deps.db },
      scope: scope.endpointId === null ? { blogId: scope.blogId } : { endpointId: scope.endpointId },
      from: period.from,
      to: period.to,
      now,
      retentionDays: deps.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS,
      historyMode: deps.historyMode ?? 'all',
      vantage,
    })
    const phase = (name: keyof typeof breakdown.phases) => {
      const timing = breakdown.phases[name]
      return {
        samples: timing.samples,
        p50_ms: timing.p50Ms,
        p95_ms: timing.p95Ms,
        p99_ms: timing.p99Ms,
        max_ms: timing.maxMs,
      }
    }
    return {
      window: windowJson(period),
      endpoint_id: scope.endpointId === null ? null : jsonId(scope.endpointId),
      vantage,
      samples: breakdown.checks,
      truncated: breakdown.truncated,
      raw_from: breakdown.rawFrom?.toISOString() ?? null,
      dns: phase('dns'),
      connect: phase('connect'),
      tls: phase('tls'),
      ttfb: phase('ttfb'),
      total: phase('total'),
    }
  },
  async 'stats.vantages'(ctx) {
    const { params, query, deps, now } = ctx
    const period = resolvePeriod(query, now)
    const scope = await resolveScope(ctx, params.blog_id, query.endpoint_id)
    const summary = await vantageSummary({
      ctx: { db: deps.db },
      scope: scope.endpointId === null ? { blogId: scope.blogId } : { endpointId: scope.endpointId },
      from: period.from,
      to: period.to,
      now,
      retentionDays: deps.historyRetentionDays ?? DEFAULT_HISTORY_RETENTION_DAYS,
    })
    return {
      window: windowJson(period),
      endpoint_id: scope.endpointId === null ? null : jsonId(scope.endpointId),
      raw_from: summary.rawFrom?.toISOString() ?? null,
      vantages: summary.vantages.map((figures) => ({
        vantage: figures.vantage,
        checks: figures.checks,
        failures: figures.failures,
        last_checked_at: figures.lastCheckedAt.toISOString(),
        samples: figures.rttSamples,
        truncated: figures.truncated,
        p50_ms: figures.p50Ms,
        p95_ms: figures.p95Ms,
      })),
    }
  },
}
