import { checkHistory, checkRollups, type DbOrTx, dateTimeMs } from '@jetmon/db'
import { and, asc, eq, gte, inArray, isNotNull, lt, notInArray, type SQL, sql } from 'drizzle-orm'
import { InvalidOptionsError } from './errors.js'
import {
  bucketIndex,
  emptyHistogram,
  histogramTotal,
  mergeHistograms,
  percentileFromHistogram,
  percentileNearestRank,
  RTT_BUCKET_EDGES_MS,
} from './histogram.js'
import { type HistoryMode, LOCAL_VANTAGE } from './types.js'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/**
 * Error codes that are not downtime (success, the deprecated-TLS advisory, monitor_error): the
 * checker's `isDowntime` rule, which the monitor passes to the recorder as `failed`. Raw history
 * stores only the code, so statistics re-derive `failed` from it with the same rule.
 */
export const NOT_DOWNTIME_CODES: readonly number[] = Object.freeze([0, 7, 99])

export interface UptimeAndLatencyInput {
  /** The database, and the clock retention is measured from (defaults to the system clock). */
  ctx: { db: DbOrTx; clock?: () => Date }
  /** The endpoints to aggregate over (a site's, or one); empty gives zeros. */
  endpointIds: readonly bigint[]
  /** Window start, inclusive. */
  from: Date
  /** Window end, exclusive. */
  to: Date
  /** `HISTORY_RETENTION_DAYS`: raw history is used from `clock() − retentionDays` (rounded up to the hour) on. */
  retentionDays: number
  /** `HISTORY_MODE`; with `failures` raw history lacks healthy checks, so only rollups are used. */
  historyMode?: HistoryMode
  /**
   * Whose checks: `'local'` (default) for the monitor's own, or a veriflier id. Verifliers have no
   * rollups, so their figures come from raw history alone, inside retention (`source` is `raw`).
   */
  vantage?: string
}

export interface UptimeAndLatency {
  /** Checks of the vantage (local unless asked otherwise) in the window. */
  checks: number
  /** Of those, checks that counted as downtime. */
  failures: number
  /** Successful checks with a response time: the population of the percentiles below. */
  rttSamples: number
  /** Nearest-rank percentiles in ms; null without samples. */
  p50Ms: number | null
  p90Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  /** Exact mean (from sums, even beyond retention). */
  meanMs: number | null
  /**
   * `raw`: exact percentiles from history. `rollup`: part of the window is beyond retention (or
   * history keeps failures only), so every sample went through the shared histogram and the
   * percentiles are bucket upper edges (see `percentileFromHistogram` for the error bound).
   */
  source: 'raw' | 'rollup'
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS
const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS

/**
 * Checks, failures and response-time statistics of one vantage's checks (the monitor's own unless
 * `vantage` names a veriflier) over `[from, to)`.
 *
 * Inside retention (from the first whole hour after `now − retentionDays`) the numbers come from
 * raw history; before it from the hourly rollups, whose hours are counted whole (resolution one
 * hour: an hour is included when it starts before the boundary and ends after `from`). When any
 * rollup is involved, raw RTTs are bucketed too and percentiles come from the merged histogram;
 * otherwise they are exact nearest-rank values of the raw RTTs.
 *
 * Response time covers successful checks only, as in the rollups (a timeout has no useful RTT).
 */
export async function uptimeAndLatency(input: UptimeAndLatencyInput): Promise<UptimeAndLatency> {
  const { endpointIds, from, to, retentionDays } = input
  const { db } = input.ctx
  const now = (input.ctx.clock ?? (() => new Date()))()
  if (!(retentionDays > 0) || !Number.isFinite(retentionDays)) {
    throw new InvalidOptionsError(`retentionDays must be a positive number of days, got ${retentionDays}`)
  }
  const start = from.getTime()
  const end = to.getTime()
  const vantage = input.vantage ?? LOCAL_VANTAGE
  const local = vantage === LOCAL_VANTAGE
  const retained = ceilHour(now.getTime() - retentionDays * DAY_MS)
  const rawBoundary = local && input.historyMode === 'failures' ? Number.POSITIVE_INFINITY : retained

  let checks = 0
  let failures = 0
  let rttSum = 0
  let rawRtts: Uint32Array = new Uint32Array(0)
  let hist: number[] | null = null

  if (endpointIds.length > 0 && end > start) {
    const ids = [...endpointIds]
    const rawStart = Math.max(start, rawBoundary)
    if (rawStart < end) {
      const window = and(
        inArray(checkHistory.endpointId, ids),
        gte(checkHistory.checkedAt, new Date(rawStart)),
        lt(checkHistory.checkedAt, to),
        eq(checkHistory.vantage, vantage),
      )
      const [counts] = await db
        .select({
          checks: sql<number>`count(*)`.mapWith(Number),
          failures:
            sql<number>`coalesce(sum(${notInArray(checkHistory.errorCode, [...NOT_DOWNTIME_CODES])}), 0)`.mapWith(
              Number,
            ),
        })
        .from(checkHistory)
        .where(window)
      checks += counts?.checks ?? 0
      failures += counts?.failures ?? 0
      const rows = await db
        .select({ rtt: checkHistory.rttMs })
        .from(checkHistory)
        .where(and(window, inArray(checkHistory.errorCode, [...NOT_DOWNTIME_CODES]), isNotNull(checkHistory.rttMs)))
      rawRtts = Uint32Array.from(rows, (r) => r.rtt ?? 0).sort()
      for (const v of rawRtts) rttSum += v
    }

    const rollupEnd = Math.min(rawBoundary, end)
    if (local && start < rollupEnd) {
      const rows = await db
        .select({
          checks: checkRollups.checks,
          failures: checkRollups.failures,
          rttSumMs: checkRollups.rttSumMs,
          rttHist: checkRollups.rttHist,
        })
        .from(checkRollups)
        .where(
          and(
            inArray(checkRollups.endpointId, ids),
            gte(checkRollups.hourStart, new Date(floorHour(start))),
            lt(checkRollups.hourStart, new Date(rollupEnd)),
          ),
        )
        .orderBy(asc(checkRollups.hourStart))
      hist = emptyHistogram()
      for (const row of rows) {
        checks += row.checks
        failures += row.failures
        rttSum += row.rttSumMs
        if (row.rttHist) hist = mergeHistograms(hist, row.rttHist)
      }
      for (const v of rawRtts) hist[bucketIndex(v)]!++
    }
  }

  const samples = hist ? histogramTotal(hist) : rawRtts.length
  const pick = (p: number) => (hist ? percentileFromHistogram(hist, p) : percentileNearestRank(rawRtts, p))
  return {
    checks,
    failures,
    rttSamples: samples,
    p50Ms: pick(50),
    p90Ms: pick(90),
    p95Ms: pick(95),
    p99Ms: pick(99),
    maxMs: pick(100),
    meanMs: samples > 0 ? rttSum / samples : null,
    source: hist ? 'rollup' : 'raw',
  }
}

/** A span `[startsAt, endsAt)` (epoch ms) during which checks of an endpoint (or, with null, of every endpoint) are not counted. */
export interface ExcludedSpan {
  endpointId: bigint | null
  startsAt: number
  endsAt: number
}

/** What {@link countLatency} reads: the rollup hours before `rawFrom` and the raw checks from it on. */
export interface LatencySamples {
  /** The first instant read from raw history; hours before it come from the rollups. */
  rawFrom: number
  rollups: { endpointId: bigint; hourStart: number; checks: number; rttHist: readonly number[] }[]
  raw: { endpointId: bigint; checkedAt: number; failed: boolean; rttMs: number | null }[]
}

/**
 * Reads the samples of a latency objective over `[from, to)` in one statement of two indexed
 * reads: the hourly rollups of the hours before `rawFrom` (the current hour, whose rollup is not
 * written yet) through their primary key, and the monitor's own raw checks from `rawFrom` on through
 * `(endpoint_id, checked_at)`.
 */
export async function loadLatencySamples(input: {
  ctx: { db: DbOrTx }
  endpointIds: readonly bigint[]
  from: Date
  to: Date
  rawFrom: Date
}): Promise<LatencySamples> {
  const { db } = input.ctx
  const from = input.from.getTime()
  const to = input.to.getTime()
  const rawFrom = Math.max(from, input.rawFrom.getTime())
  const samples: LatencySamples = { rawFrom, rollups: [], raw: [] }
  if (input.endpointIds.length === 0 || to <= from) return samples
  const ids = input.endpointIds.length === 1 ? sql`= ${input.endpointIds[0]}` : sql`IN ${[...input.endpointIds]}`
  const rollupEnd = Math.min(to, rawFrom)
  const reads: SQL[] = []
  if (from < rollupEnd) {
    reads.push(
      sql`SELECT 0 AS kind, r.endpoint_id, r.hour_start AS at, r.checks AS n, r.rtt_hist AS v FROM jetmon_check_rollups r WHERE r.endpoint_id ${ids} AND r.hour_start >= ${new Date(floorHour(from))} AND r.hour_start < ${new Date(rollupEnd)}`,
    )
  }
  if (rawFrom < to) {
    reads.push(
      sql`SELECT 1 AS kind, h.endpoint_id, h.checked_at AS at, h.error_code AS n, h.rtt_ms AS v FROM jetmon_check_history h WHERE h.endpoint_id ${ids} AND h.checked_at >= ${new Date(rawFrom)} AND h.checked_at < ${input.to} AND h.vantage = ${LOCAL_VANTAGE}`,
    )
  }
  if (reads.length === 0) return samples
  // A row per rollup hour (kind 0: `n` its checks, `v` its histogram) or raw check (kind 1: `n` its
  // error code, `v` its response time).
  const [rows] = (await db.execute(sql.join(reads, sql` UNION ALL `))) as unknown as [
    { kind: number; endpoint_id: number | string; at: string; n: number | null; v: unknown }[],
  ]
  for (const row of rows) {
    if (row.kind === 0) {
      const hist = typeof row.v === 'string' ? (JSON.parse(row.v) as number[] | null) : (row.v as number[] | null)
      samples.rollups.push({
        endpointId: BigInt(row.endpoint_id),
        hourStart: dateTimeMs(row.at),
        checks: row.n ?? 0,
        rttHist: hist ?? [],
      })
    } else {
      samples.raw.push({
        endpointId: BigInt(row.endpoint_id),
        checkedAt: dateTimeMs(row.at),
        failed: !NOT_DOWNTIME_CODES.includes(row.n ?? 0),
        rttMs: row.v === null || row.v === undefined ? null : Number(row.v),
      })
    }
  }
  return samples
}

export interface LatencyCountsInput {
  ctx: { db: DbOrTx }
  endpointIds: readonly bigint[]
  /** Period `[from, to)`. */
  from: Date
  to: Date
  /** The hour from which raw history is read instead of rollups (the current hour: its rollup is not written yet). */
  rawFrom: Date
  /** A check is good when it succeeded with a response time of at most this many milliseconds. */
  thresholdMs: number
  /** Maintenance: checks inside it are neither good nor bad. */
  excluded: readonly ExcludedSpan[]
}

export interface LatencyCounts {
  /** Successful and failed checks outside the excluded spans (fractional where a rollup hour is cut). */
  eligible: number
  /** Of those, the successful checks answered within the threshold. */
  good: number
}

/** Milliseconds of `[from, to)` not covered by `spans` (spans may overlap). */
function uncoveredMs(from: number, to: number, spans: readonly (readonly [number, number])[]): number {
  if (to <= from) return 0
  const cut = spans
    .map(([a, b]): [number, number] => [Math.max(a, from), Math.min(b, to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  let covered = 0
  let reach = from
  for (const [a, b] of cut) {
    if (b <= reach) continue
    covered += b - Math.max(a, reach)
    reach = b
  }
  return to - from - covered
}

/**
 * Good and eligible checks of a latency objective over `[from, to)` (inside what `samples` was read
 * for), computed from loaded samples so several periods share one read:
 *
 * - A rollup hour counts in proportion to its part inside `[from, to)` and outside the excluded
 *   spans of its endpoint (a rollup does not say when in the hour each check ran, so checks are
 *   taken as evenly spread over it).
 * - In a rollup, a good check is one in a histogram bucket whose upper edge is at most
 *   `thresholdMs`. A threshold between two edges does not count the bucket it falls in (that bucket
 *   may hold slower checks): the figure from rollups is then a lower bound of the true one, and
 *   exact when the threshold is a bucket edge (`RTT_BUCKET_EDGES_MS`). Raw checks compare their
 *   exact RTT.
 * - Failed checks (the uptime rule: any code but success and advisories) are eligible and bad.
 */
export function countLatency(
  samples: LatencySamples,
  options: { from: number; to: number; thresholdMs: number; excluded: readonly ExcludedSpan[] },
): LatencyCounts {
  const { from, to, thresholdMs, excluded } = options
  const spansCache = new Map<bigint, [number, number][]>()
  const spansOf = (endpointId: bigint) => {
    let spans = spansCache.get(endpointId)
    if (!spans) {
      spans = excluded
        .filter((span) => span.endpointId === null || span.endpointId === endpointId)
        .map((span): [number, number] => [span.startsAt, span.endsAt])
      spansCache.set(endpointId, spans)
    }
    return spans
  }
  let goodBuckets = 0
  while (goodBuckets < RTT_BUCKET_EDGES_MS.length && RTT_BUCKET_EDGES_MS[goodBuckets]! <= thresholdMs) goodBuckets++

  let eligible = 0
  let good = 0
  const rollupEnd = Math.min(to, samples.rawFrom)
  for (const row of samples.rollups) {
    const start = Math.max(row.hourStart, from)
    const end = Math.min(row.hourStart + HOUR_MS, rollupEnd)
    const share = uncoveredMs(start, end, spansOf(row.endpointId)) / HOUR_MS
    if (share <= 0) continue
    let fast = 0
    for (let i = 0; i < goodBuckets; i++) fast += row.rttHist[i] ?? 0
    eligible += share * row.checks
    good += share * fast
  }
  const rawStart = Math.max(from, samples.rawFrom)
  for (const row of samples.raw) {
    if (row.checkedAt < rawStart || row.checkedAt >= to) continue
    if (spansOf(row.endpointId).some(([a, b]) => a <= row.checkedAt && row.checkedAt < b)) continue
    eligible++
    if (!row.failed && row.rttMs !== null && row.rttMs <= thresholdMs) good++
  }
  return { eligible, good }
}

/** {@link loadLatencySamples} and {@link countLatency} for one period. */
export async function latencyCounts(input: LatencyCountsInput): Promise<LatencyCounts> {
  const samples = await loadLatencySamples(input)
  return countLatency(samples, {
    from: input.from.getTime(),
    to: input.to.getTime(),
    thresholdMs: input.thresholdMs,
    excluded: input.excluded,
  })
}
