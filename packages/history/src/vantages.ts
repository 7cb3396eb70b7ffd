import { checkHistory, type DbOrTx } from '@jetmon/db'
import { and, desc, eq, gte, inArray, isNotNull, lt, notInArray, sql } from 'drizzle-orm'
import { InvalidOptionsError } from './errors.js'
import { percentileNearestRank } from './histogram.js'
import { NOT_DOWNTIME_CODES } from './statistics.js'
import { LOCAL_VANTAGE } from './types.js'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** Most response times read per vantage for its percentiles: the newest ones of the period win. */
export const MAX_VANTAGE_SAMPLES = 50_000

export interface VantageSummaryInput {
  ctx: { db: DbOrTx }
  /** The scope: every check of one site (`blogId`) or of one endpoint (`endpointId`). */
  scope: { blogId: bigint } | { endpointId: bigint }
  /** Period start, inclusive. */
  from: Date
  /** Period end, exclusive. */
  to: Date
  /** `HISTORY_RETENTION_DAYS`: only raw history from `now − retentionDays` (rounded up to the hour) on is read. */
  retentionDays: number
  now: Date
  /** At most this many response times per vantage, newest first (default {@link MAX_VANTAGE_SAMPLES}). */
  maxSamples?: number
}

/** What one vantage saw of the scope over the period. */
export interface VantageFigures {
  /** `'local'` for the monitor's own checks, else the veriflier id. */
  vantage: string
  checks: number
  /** Of those, checks that counted as downtime. */
  failures: number
  /** The newest check of the vantage in the period. */
  lastCheckedAt: Date
  /** Successful checks with a response time (the percentiles' population, before the cut below). */
  rttSamples: number
  /** True when `rttSamples` exceeded `maxSamples`: the percentiles cover the newest `maxSamples` only. */
  truncated: boolean
  /** Nearest-rank percentiles of those response times, in ms; null without samples. */
  p50Ms: number | null
  p95Ms: number | null
}

export interface VantageSummary {
  /** Where the raw period began after clipping to retention (null when nothing of it is retained). */
  rawFrom: Date | null
  /** Every vantage that checked the scope in the period: `local` first, then the verifliers by id. */
  vantages: VantageFigures[]
}

/**
 * Which vantages (the monitor itself and each veriflier) checked a site or endpoint over
 * `[from, to)`, and how they fared: checks, failures, the last check and p50/p95 response time of
 * the successful ones. Raw history only (verifliers have no rollups), clipped to retention.
 *
 * One grouped read along the `(blog_id|endpoint_id, checked_at)` index for the counts, then per
 * vantage with successful checks one read of at most `maxSamples` response times, newest first
 * along the same index, sorted in memory for exact percentiles.
 */
export async function vantageSummary(input: VantageSummaryInput): Promise<VantageSummary> {
  const { scope, from, to, now, retentionDays } = input
  const { db } = input.ctx
  if (!(retentionDays > 0) || !Number.isFinite(retentionDays)) {
    throw new InvalidOptionsError(`retentionDays must be a positive number of days, got ${retentionDays}`)
  }
  const maxSamples = input.maxSamples ?? MAX_VANTAGE_SAMPLES
  if (!Number.isSafeInteger(maxSamples) || maxSamples < 1) {
    throw new InvalidOptionsError(`maxSamples must be a positive integer, got ${maxSamples}`)
  }
  const start = Math.max(from.getTime(), Math.ceil((now.getTime() - retentionDays * DAY_MS) / HOUR_MS) * HOUR_MS)
  if (start >= to.getTime()) return { rawFrom: null, vantages: [] }

  const window = and(
    'blogId' in scope ? eq(checkHistory.blogId, scope.blogId) : eq(checkHistory.endpointId, scope.endpointId),
    gte(checkHistory.checkedAt, new Date(start)),
    lt(checkHistory.checkedAt, to),
  )
  const ok = and(inArray(checkHistory.errorCode, [...NOT_DOWNTIME_CODES]), isNotNull(checkHistory.rttMs))
  const groups = await db
    .select({
      vantage: checkHistory.vantage,
      checks: sql<number>`count(*)`.mapWith(Number),
      failures: sql<number>`coalesce(sum(${notInArray(checkHistory.errorCode, [...NOT_DOWNTIME_CODES])}), 0)`.mapWith(
        Number,
      ),
      samples: sql<number>`coalesce(sum(${ok}), 0)`.mapWith(Number),
      last: sql<Date>`max(${checkHistory.checkedAt})`.mapWith(checkHistory.checkedAt),
    })
    .from(checkHistory)
    .where(window)
    .groupBy(checkHistory.vantage)

  const vantages = await Promise.all(
    groups.map(async (group): Promise<VantageFigures> => {
      let sorted = new Uint32Array(0)
      if (group.samples > 0) {
        const rows = await db
          .select({ rtt: checkHistory.rttMs })
          .from(checkHistory)
          .where(and(window, eq(checkHistory.vantage, group.vantage), ok))
          .orderBy(desc(checkHistory.checkedAt))
          .limit(maxSamples)
        sorted = Uint32Array.from(rows, (row) => row.rtt ?? 0).sort()
      }
      return {
        vantage: group.vantage,
        checks: group.checks,
        failures: group.failures,
        lastCheckedAt: group.last,
        rttSamples: group.samples,
        truncated: group.samples > maxSamples,
        p50Ms: percentileNearestRank(sorted, 50),
        p95Ms: percentileNearestRank(sorted, 95),
      }
    }),
  )
  vantages.sort((a, b) =>
    a.vantage === b.vantage
      ? 0
      : a.vantage === LOCAL_VANTAGE
        ? -1
        : b.vantage === LOCAL_VANTAGE
          ? 1
          : a.vantage < b.vantage
            ? -1
            : 1,
  )
  return { rawFrom: new Date(start), vantages }
}
