import { checkHistory, type DbOrTx } from '@jetmon/db'
import { and, desc, eq, gte, inArray, lt } from 'drizzle-orm'
import { InvalidOptionsError } from './errors.js'
import { percentileNearestRank } from './histogram.js'
import { NOT_DOWNTIME_CODES } from './statistics.js'
import { type HistoryMode, LOCAL_VANTAGE } from './types.js'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/**
 * Most checks one breakdown reads: the newest ones of the window win. One endpoint checked every
 * minute for 30 days is 43 200 checks, so only multi-endpoint sites with frequent checks are cut.
 */
export const MAX_TIMING_SAMPLES = 50_000

/** The phases of a check, as named in the breakdown (`connect` is the `tcp_ms` column, `total` is `rtt_ms`). */
export const TIMING_PHASES = ['dns', 'connect', 'tls', 'ttfb', 'total'] as const
export type TimingPhase = (typeof TIMING_PHASES)[number]

/** Nearest-rank percentiles of one phase, in ms; all null when no check completed the phase. */
export interface PhaseTiming {
  /** Checks that completed this phase (a plain-http check has no TLS time). */
  samples: number
  p50Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
  maxMs: number | null
}

export interface TimingBreakdownInput {
  ctx: { db: DbOrTx }
  /** The scope: every check of one site (`blogId`) or of one endpoint (`endpointId`). */
  scope: { blogId: bigint } | { endpointId: bigint }
  /** Window start, inclusive. */
  from: Date
  /** Window end, exclusive. */
  to: Date
  /** `HISTORY_RETENTION_DAYS`: only raw history from `now − retentionDays` (rounded up to the hour) on is read. */
  retentionDays: number
  now: Date
  /** `HISTORY_MODE`; with `failures` there are no successful checks in raw history, so no samples. */
  historyMode?: HistoryMode
  /** At most this many checks, newest first (default {@link MAX_TIMING_SAMPLES}). */
  maxSamples?: number
  /**
   * Whose checks: `'local'` (default) or a veriflier id. A veriflier reports only its total time,
   * so its breakdown has samples in `total` alone.
   */
  vantage?: string
}

export interface TimingBreakdown {
  /** Successful checks of the vantage read (at most `maxSamples`). */
  checks: number
  /** True when the window held more successful checks than `maxSamples`: only the newest were read. */
  truncated: boolean
  /** Where the raw window began after clipping to retention (null when nothing of it is retained). */
  rawFrom: Date | null
  phases: Record<TimingPhase, PhaseTiming>
}

/**
 * Per-phase timings (DNS, TCP connect, TLS handshake, time to first byte, total) of the successful
 * checks of one vantage (local unless `vantage` names a veriflier) in `[from, to)`: exact nearest-rank p50/p95/p99/max over raw history inside the
 * retention period. Rollups keep no phase timings, so the part of the window beyond retention
 * contributes nothing.
 *
 * One bounded read: the phase columns of the newest `maxSamples` checks, walked backwards along the
 * `(blog_id|endpoint_id, checked_at)` index, then sorted in memory. Computing each percentile in
 * SQL would need a sorted scan per phase and percentile (or window functions); one scan plus an
 * in-memory sort of at most 50 000 integers per phase is cheaper (see the API's stats tests).
 */
export async function timingBreakdown(input: TimingBreakdownInput): Promise<TimingBreakdown> {
  const { scope, from, to, now, retentionDays } = input
  const { db } = input.ctx
  if (!(retentionDays > 0) || !Number.isFinite(retentionDays)) {
    throw new InvalidOptionsError(`retentionDays must be a positive number of days, got ${retentionDays}`)
  }
  const maxSamples = input.maxSamples ?? MAX_TIMING_SAMPLES
  if (!Number.isSafeInteger(maxSamples) || maxSamples < 1) {
    throw new InvalidOptionsError(`maxSamples must be a positive integer, got ${maxSamples}`)
  }
  const rawBoundary = Math.ceil((now.getTime() - retentionDays * DAY_MS) / HOUR_MS) * HOUR_MS
  const start = Math.max(from.getTime(), rawBoundary)
  const empty = (rawFrom: Date | null): TimingBreakdown => ({
    checks: 0,
    truncated: false,
    rawFrom,
    phases: emptyPhases(),
  })
  if (start >= to.getTime()) return empty(null)
  if (input.historyMode === 'failures') return empty(new Date(start))

  const rows = await db
    .select({
      dns: checkHistory.dnsMs,
      connect: checkHistory.tcpMs,
      tls: checkHistory.tlsMs,
      ttfb: checkHistory.ttfbMs,
      total: checkHistory.rttMs,
    })
    .from(checkHistory)
    .where(
      and(
        'blogId' in scope ? eq(checkHistory.blogId, scope.blogId) : eq(checkHistory.endpointId, scope.endpointId),
        gte(checkHistory.checkedAt, new Date(start)),
        lt(checkHistory.checkedAt, to),
        eq(checkHistory.vantage, input.vantage ?? LOCAL_VANTAGE),
        inArray(checkHistory.errorCode, [...NOT_DOWNTIME_CODES]),
      ),
    )
    .orderBy(desc(checkHistory.checkedAt))
    .limit(maxSamples + 1)

  const truncated = rows.length > maxSamples
  const used = truncated ? rows.slice(0, maxSamples) : rows
  const phases = {} as Record<TimingPhase, PhaseTiming>
  for (const phase of TIMING_PHASES) {
    const values = new Uint32Array(used.length)
    let n = 0
    for (const row of used) {
      const ms = row[phase]
      if (ms !== null) values[n++] = ms
    }
    const sorted = values.subarray(0, n).sort()
    phases[phase] = {
      samples: n,
      p50Ms: percentileNearestRank(sorted, 50),
      p95Ms: percentileNearestRank(sorted, 95),
      p99Ms: percentileNearestRank(sorted, 99),
      maxMs: percentileNearestRank(sorted, 100),
    }
  }
  return { checks: used.length, truncated, rawFrom: new Date(start), phases }
}

function emptyPhases(): Record<TimingPhase, PhaseTiming> {
  const phases = {} as Record<TimingPhase, PhaseTiming>
  for (const phase of TIMING_PHASES) {
    phases[phase] = { samples: 0, p50Ms: null, p95Ms: null, p99Ms: null, maxMs: null }
  }
  return phases
}
