/** What every statistics route resolves first: the period and the site or endpoint measured. */
import type { RouteDefinition } from '@jetmon/api-client'
import { loadStatsScope, type StatsPeriod, type StatsScope } from '@jetmon/read-models'
import type { RequestContext } from '../context.js'
import { type FieldProblem, invalidRequest, notFound } from '../errors.js'
import { tenantSeesBlog } from '../tenancy.js'
import { siteKnown } from './_events-query.js'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

/** The `window` values and their lengths. */
export const WINDOW_MS = { '1h': HOUR_MS, '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS, '90d': 90 * DAY_MS }
/** How far `to` may run ahead of the server clock (client clocks drift); later instants count up to now. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000
/** Longest `from`–`to` period: a year and a day, enough for a leap year's report. */
export const MAX_SPAN_MS = 366 * DAY_MS

export interface StatsQuery {
  window?: keyof typeof WINDOW_MS | undefined
  from?: Date | undefined
  to?: Date | undefined
  endpoint_id?: bigint | undefined
}

/**
 * The period of a statistics request: `window` ending now, or `from` + `to`. Exactly one of the
 * two forms, `from < to`, `to` at most {@link MAX_CLOCK_SKEW_MS} ahead of now (clamped to now),
 * and at most {@link MAX_SPAN_MS} long; otherwise 400 naming the fields.
 */
export function resolvePeriod(query: StatsQuery, now: Date): StatsPeriod {
  const problems: FieldProblem[] = []
  const hasRange = query.from !== undefined || query.to !== undefined
  if (query.window !== undefined) {
    if (hasRange) {
      for (const field of ['from', 'to'] as const) {
        if (query[field] !== undefined) {
          problems.push({
            path: `query.${field}`,
            message: 'cannot be combined with window; give window or from and to',
          })
        }
      }
      throw invalidRequest(problems)
    }
    return { from: new Date(now.getTime() - WINDOW_MS[query.window]), to: now }
  }
  if (!hasRange) {
    throw invalidRequest([
      {
        path: 'query.window',
        message: `is required unless from and to are given (${Object.keys(WINDOW_MS).join(', ')})`,
      },
    ])
  }
  if (query.from === undefined) problems.push({ path: 'query.from', message: 'is required with to' })
  if (query.to === undefined) problems.push({ path: 'query.to', message: 'is required with from' })
  if (problems.length > 0) throw invalidRequest(problems)
  const from = query.from as Date
  const to = query.to as Date
  if (from.getTime() >= to.getTime()) problems.push({ path: 'query.to', message: 'must be after from' })
  else if (to.getTime() - from.getTime() > MAX_SPAN_MS) {
    problems.push({ path: 'query.from', message: 'must be at most 366 days before to' })
  }
  if (to.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    problems.push({ path: 'query.to', message: 'must not be in the future (5 minutes of clock skew are tolerated)' })
  }
  if (from.getTime() >= now.getTime()) problems.push({ path: 'query.from', message: 'must be in the past' })
  if (problems.length > 0) throw invalidRequest(problems)
  return { from, to: new Date(Math.min(to.getTime(), now.getTime())) }
}

/**
 * The scope of a statistics request: 404 `site_not_found` for a blog with neither endpoints nor
 * events (or another tenant's), 404 `endpoint_not_found` for an endpoint of another blog.
 */
export async function resolveScope(
  ctx: RequestContext<RouteDefinition>,
  blogId: bigint,
  endpointId: bigint | undefined,
): Promise<StatsScope> {
  if (!(await tenantSeesBlog(ctx, blogId))) throw notFound('site', blogId)
  const site = await loadStatsScope({ ctx: { db: ctx.deps.db }, blogId, endpointId: null })
  if (site?.siteEndpointIds.length === 0 && !(await siteKnown(ctx.deps.db, blogId))) throw notFound('site', blogId)
  if (site === null) throw notFound('site', blogId)
  if (endpointId === undefined) return site
  if (!site.siteEndpointIds.includes(endpointId)) throw notFound('endpoint', endpointId)
  return { ...site, endpointId, endpointIds: [endpointId] }
}
