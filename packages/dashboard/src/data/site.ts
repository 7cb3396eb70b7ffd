/**
 * The site page's data: the site and its endpoints (the API's own reader, so the page and
 * `GET /sites/{blog_id}` agree), uptime figures for 24 h / 7 d / 30 d (the API's computation), the
 * response-time series, the uptime bars, the vantages (the monitor and each veriflier) that checked
 * the site over the last 24 h, and the event timeline with evidence.
 */
import { checkHistory, checkRollups, type DbOrTx, eventTransitions } from '@jetmon/db'
import { type Event, listEvents, listOpenEvents, type Transition } from '@jetmon/eventstore'
import { type HistoryMode, uptimeAndLatency, type VantageFigures, vantageSummary } from '@jetmon/history'
import {
  type CheckPolicyDefaults,
  computeUptime,
  loadSiteDetail,
  loadStoredPolicies,
  loadUptimeInput,
  type UptimeFigures,
} from '@jetmon/read-models'
import { and, asc, type Column, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import { type Evidence, evidenceOf, redactUrl } from './_evidence.js'
import { datetimeLiteral, intLiteral, NOT_DOWNTIME_LIST, toNumber } from './_sql.js'
import { eventSegments, type StateSegment, type UptimeCell, uptimeCells } from './_uptime-cells.js'
import { type PolicyLabel, policyLabel } from './check-policy.js'
import { loadSiteObjectives, type ObjectiveView } from './objectives.js'
import { unavailableConfirmations } from './overview.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The chart's windows and their bucket sizes (at most ~180 points each). */
export const CHART_WINDOWS = {
  '1h': { ms: HOUR, stepMs: MINUTE },
  '6h': { ms: 6 * HOUR, stepMs: 5 * MINUTE },
  '24h': { ms: DAY, stepMs: 10 * MINUTE },
  '7d': { ms: 7 * DAY, stepMs: HOUR },
  '30d': { ms: 30 * DAY, stepMs: 4 * HOUR },
} as const
export type ChartWindow = keyof typeof CHART_WINDOWS
export const DEFAULT_CHART_WINDOW: ChartWindow = '24h'

/** The stacked response-time chart's data (times in unix seconds, phases in ms). */
export interface ChartSeries {
  window: ChartWindow
  fromMs: number
  toMs: number
  stepMs: number
  /** Bucket middles, unix seconds. */
  t: number[]
  dns: (number | null)[]
  connect: (number | null)[]
  tls: (number | null)[]
  ttfb: (number | null)[]
  /** Total minus the four phases: body transfer and redirects. */
  other: (number | null)[]
  checks: number[]
  failed: number[]
  /** Event states over the window: `[startMs, endMs, state]`, drawn as bands behind the series. */
  bands: [number, number, string][]
  /** `none`: raw history keeps failures only (`HISTORY_MODE=failures`), so there is no series. */
  source: 'raw' | 'none'
}

export type SiteDetail = NonNullable<Awaited<ReturnType<typeof loadSiteDetail>>>

export interface TimelineEvent {
  event: Event
  endpointUrl: string | null
  evidence: Evidence
  transitions: { transition: Transition; evidence: Evidence }[]
}

export interface SiteData {
  detail: SiteDetail
  /** Figures for 24 h, 7 d and 30 d. */
  figures: { label: string; figures: UptimeFigures }[]
  latency: { p50Ms: number | null; p95Ms: number | null; samples: number }
  /** Who checked the site over the last 24 h: `local` (this monitor) first, then each veriflier. */
  regions: VantageFigures[]
  chart: ChartSeries
  hourly: UptimeCell[]
  daily: UptimeCell[]
  open: TimelineEvent[]
  timeline: TimelineEvent[]
  /** Cursor of the next (older) page of the timeline. */
  olderCursor: string | null
  confirmationUnavailable: Set<bigint>
  /** Each endpoint's request method and detection profile as the page shows them (by endpoint id). */
  policies: Map<string, { method: PolicyLabel; profile: PolicyLabel }>
  /** The site's active service level objectives with their status, streak and open alerts. */
  objectives: ObjectiveView[]
}

export interface SiteDeps {
  db: DbOrTx
  now: Date
  retentionDays: number
  historyMode: HistoryMode
  /** The fleet's default method and profile; null or absent: unknown, shown as "default". */
  checkPolicyDefaults?: CheckPolicyDefaults | null | undefined
}

export interface SiteQuery {
  blogId: bigint
  window: ChartWindow
  /** Older timeline page (a cursor from a previous page). */
  eventsCursor: string | null
}

const TIMELINE_PAGE = 25

/** The site page, or null when the blog has no endpoints. */
export async function loadSite(deps: SiteDeps, query: SiteQuery): Promise<SiteData | null> {
  const { db, now } = deps
  const defaults = deps.checkPolicyDefaults ?? null
  const detail = await loadSiteDetail({
    ctx: { db },
    blogId: query.blogId,
    now,
    ...(defaults === null ? {} : { policy: defaults }),
  })
  if (!detail) return null
  const endpointIds = detail.endpoints.map((endpoint) => BigInt(endpoint.endpoint_id))
  const stored = await loadStoredPolicies({ ctx: { db }, endpointIds })
  const policies = new Map(
    endpointIds.map((id) => {
      const row = stored.get(id)
      return [
        id.toString(),
        {
          method: policyLabel(row?.requestMethod, defaults?.requestMethod),
          profile: policyLabel(row?.detectionProfile, defaults?.detectionProfile),
        },
      ]
    }),
  )
  const urlOf = new Map(
    detail.endpoints.map((endpoint) => [BigInt(endpoint.endpoint_id), redactUrl(endpoint.monitor_url)]),
  )
  const nowMs = now.getTime()

  // One read of the event log for 30 days serves the figures, the bars and the chart's bands.
  const input = await loadUptimeInput({
    ctx: { db },
    scope: { blogId: query.blogId, endpointId: null, siteEndpointIds: endpointIds, endpointIds },
    period: { from: new Date(nowMs - 30 * DAY), to: now },
    now,
  })
  const figures = [
    { label: '24 h', ms: DAY },
    { label: '7 d', ms: 7 * DAY },
    { label: '30 d', ms: 30 * DAY },
  ].map(({ label, ms }) => ({ label, figures: computeUptime({ ...input, from: nowMs - ms }) }))
  const changesOf = new Map<bigint, (typeof input.changes)[number][]>()
  for (const change of input.changes) {
    const list = changesOf.get(change.eventId) ?? []
    list.push(change)
    changesOf.set(change.eventId, list)
  }
  const segments: StateSegment[] = input.events.flatMap((event) =>
    eventSegments(event, changesOf.get(event.id) ?? [], nowMs),
  )

  const hourFrom = Math.floor(nowMs / HOUR) * HOUR - 47 * HOUR
  const dayFrom = Math.floor(nowMs / DAY) * DAY - 29 * DAY
  const openRead = listOpenEvents({ ctx: { db }, blogId: query.blogId })
  const [latency, regions, chart, hourChecks, page, openEvents, objectives] = await Promise.all([
    uptimeAndLatency({
      ctx: { db, clock: () => now },
      endpointIds,
      from: new Date(nowMs - DAY),
      to: now,
      retentionDays: deps.retentionDays,
      historyMode: deps.historyMode,
    }),
    vantageSummary({
      ctx: { db },
      scope: { blogId: query.blogId },
      from: new Date(nowMs - DAY),
      to: now,
      now,
      retentionDays: deps.retentionDays,
    }),
    chartSeries(deps, query.blogId, query.window, segments),
    checksPerHour(deps, query.blogId, dayFrom),
    listEvents({ ctx: { db }, filter: { blogId: query.blogId }, cursor: query.eventsCursor, limit: TIMELINE_PAGE }),
    openRead,
    loadSiteObjectives({ db, now }, query.blogId, openRead),
  ])
  const checksAt = (fromMs: number, cellMs: number) => {
    const map = new Map<number, number>()
    for (const [hourMs, n] of hourChecks) {
      const i = Math.floor((hourMs - fromMs) / cellMs)
      if (i >= 0) map.set(i, (map.get(i) ?? 0) + n)
    }
    return map
  }
  const hourly = uptimeCells({
    fromMs: hourFrom,
    cellMs: HOUR,
    cells: 48,
    nowMs,
    segments,
    windows: siteWideWindows(input.windows, endpointIds),
    checks: checksAt(hourFrom, HOUR),
  })
  const daily = uptimeCells({
    fromMs: dayFrom,
    cellMs: DAY,
    cells: 30,
    nowMs,
    segments,
    windows: siteWideWindows(input.windows, endpointIds),
    checks: checksAt(dayFrom, DAY),
  })

  const openIds = new Set(openEvents.map((event) => event.id))
  const listed = [...openEvents, ...page.items.filter((event) => !openIds.has(event.id))]
  const transitions = await transitionsOf(
    db,
    listed.map((event) => event.id),
  )
  const toTimeline = (event: Event): TimelineEvent => ({
    event,
    endpointUrl: event.endpointId === null ? null : (urlOf.get(event.endpointId) ?? null),
    evidence: evidenceOf(event.checkType, event.metadata),
    transitions: (transitions.get(event.id) ?? []).map((transition) => ({
      transition,
      evidence: evidenceOf(event.checkType, transition.metadata),
    })),
  })
  const confirmationUnavailable = await unavailableConfirmations(
    db,
    openEvents.filter((event) => event.checkType === 'http' && event.state === 'Seems Down'),
  )
  return {
    detail,
    figures: figures.map(({ label, figures }) => ({ label, figures })),
    latency: { p50Ms: latency.p50Ms, p95Ms: latency.p95Ms, samples: latency.rttSamples },
    regions: regions.vantages,
    chart,
    hourly,
    daily,
    open: openEvents.map(toTimeline),
    timeline: page.items.map(toTimeline),
    olderCursor: page.next,
    confirmationUnavailable,
    policies,
    objectives,
  }
}

/**
 * Windows that count as the site's maintenance on the bar: site-wide ones, and endpoint windows
 * only when the site has that one endpoint (a window on one of several endpoints is not the site's).
 */
function siteWideWindows(windows: SiteDataWindows, endpointIds: readonly bigint[]): SiteDataWindows {
  return windows.filter(
    (window) => window.endpointId === null || (endpointIds.length === 1 && window.endpointId === endpointIds[0]),
  )
}
type SiteDataWindows = Parameters<typeof computeUptime>[0]['windows']

/** Transitions of these events, oldest first, in one statement. */
async function transitionsOf(db: DbOrTx, eventIds: readonly bigint[]): Promise<Map<bigint, Transition[]>> {
  const out = new Map<bigint, Transition[]>()
  if (eventIds.length === 0) return out
  const rows = await db
    .select()
    .from(eventTransitions)
    .where(inArray(eventTransitions.eventId, [...eventIds]))
    .orderBy(asc(eventTransitions.eventId), asc(eventTransitions.id))
  for (const row of rows) {
    const list = out.get(row.eventId) ?? []
    list.push(row as unknown as Transition)
    out.set(row.eventId, list)
  }
  return out
}

/** Local checks per UTC hour since `fromMs` (raw history, and the rollups for older hours). */
async function checksPerHour(deps: SiteDeps, blogId: bigint, fromMs: number): Promise<Map<number, number>> {
  const { db, now } = deps
  const from = new Date(fromMs)
  const hour = sql`TIMESTAMPDIFF(SECOND, ${datetimeLiteral(from)}, ${checkHistory.checkedAt}) DIV 3600`
  const [raw, rolled] = await Promise.all([
    db
      .select({ hour: sql<unknown>`${hour}`, n: sql<unknown>`COUNT(*)` })
      .from(checkHistory)
      .where(
        and(
          eq(checkHistory.blogId, blogId),
          gte(checkHistory.checkedAt, from),
          lt(checkHistory.checkedAt, now),
          eq(checkHistory.vantage, 'local'),
        ),
      )
      .groupBy(hour),
    db
      .select({ hourStart: checkRollups.hourStart, n: sql<unknown>`SUM(${checkRollups.checks})` })
      .from(checkRollups)
      .where(and(eq(checkRollups.blogId, blogId), gte(checkRollups.hourStart, from)))
      .groupBy(checkRollups.hourStart),
  ])
  const out = new Map<number, number>()
  for (const row of raw) {
    const i = toNumber(row.hour)
    if (i !== null) out.set(fromMs + i * HOUR, toNumber(row.n) ?? 0)
  }
  // The rollup of an hour and its raw rows count the same checks: take the larger, never the sum.
  for (const row of rolled) {
    const at = row.hourStart.getTime()
    out.set(at, Math.max(out.get(at) ?? 0, toNumber(row.n) ?? 0))
  }
  return out
}

/** Mean phase timings of successful local checks per bucket, stacked by the browser. */
async function chartSeries(
  deps: SiteDeps,
  blogId: bigint,
  window: ChartWindow,
  segments: readonly StateSegment[],
): Promise<ChartSeries> {
  const { db, now } = deps
  const { ms, stepMs } = CHART_WINDOWS[window]
  const toMs = Math.ceil(now.getTime() / stepMs) * stepMs
  const fromMs = toMs - ms
  const buckets = ms / stepMs
  const series: ChartSeries = {
    window,
    fromMs,
    toMs,
    stepMs,
    t: Array.from({ length: buckets }, (_, i) => Math.round((fromMs + i * stepMs + stepMs / 2) / 1000)),
    dns: new Array(buckets).fill(null),
    connect: new Array(buckets).fill(null),
    tls: new Array(buckets).fill(null),
    ttfb: new Array(buckets).fill(null),
    other: new Array(buckets).fill(null),
    checks: new Array(buckets).fill(0),
    failed: new Array(buckets).fill(0),
    bands: segments
      .filter((segment) => segment.endMs > fromMs && segment.startMs < toMs)
      .map((segment): [number, number, string] => [
        Math.max(segment.startMs, fromMs),
        Math.min(segment.endMs, toMs),
        segment.state,
      ])
      .sort((a, b) => a[0] - b[0]),
    source: deps.historyMode === 'failures' ? 'none' : 'raw',
  }
  const from = new Date(fromMs)
  const bucket = sql`TIMESTAMPDIFF(SECOND, ${datetimeLiteral(from)}, ${checkHistory.checkedAt}) DIV ${intLiteral(stepMs / 1000)}`
  const ok = sql`${checkHistory.errorCode} IN (${NOT_DOWNTIME_LIST}) AND ${checkHistory.rttMs} IS NOT NULL`
  const phase = (column: Column) => sql<unknown>`AVG(CASE WHEN ${ok} THEN COALESCE(${column}, 0) END)`
  const rows = await db
    .select({
      bucket: sql<unknown>`${bucket}`,
      checks: sql<unknown>`COUNT(*)`,
      failed: sql<unknown>`SUM(${checkHistory.errorCode} NOT IN (${NOT_DOWNTIME_LIST}))`,
      dns: phase(checkHistory.dnsMs),
      connect: phase(checkHistory.tcpMs),
      tls: phase(checkHistory.tlsMs),
      ttfb: phase(checkHistory.ttfbMs),
      total: sql<unknown>`AVG(CASE WHEN ${ok} THEN ${checkHistory.rttMs} END)`,
    })
    .from(checkHistory)
    .where(
      and(
        eq(checkHistory.blogId, blogId),
        gte(checkHistory.checkedAt, from),
        lt(checkHistory.checkedAt, new Date(Math.min(toMs, now.getTime() + 1))),
        eq(checkHistory.vantage, 'local'),
      ),
    )
    .groupBy(bucket)
  for (const row of rows) {
    const i = toNumber(row.bucket)
    if (i === null || i < 0 || i >= buckets) continue
    series.checks[i] = toNumber(row.checks) ?? 0
    series.failed[i] = toNumber(row.failed) ?? 0
    const total = toNumber(row.total)
    if (total === null) continue
    const dns = toNumber(row.dns) ?? 0
    const connect = toNumber(row.connect) ?? 0
    const tls = toNumber(row.tls) ?? 0
    const ttfb = toNumber(row.ttfb) ?? 0
    const round = (n: number) => Math.round(n * 10) / 10
    series.dns[i] = round(dns)
    series.connect[i] = round(connect)
    series.tls[i] = round(tls)
    series.ttfb[i] = round(ttfb)
    series.other[i] = round(Math.max(0, total - dns - connect - tls - ttfb))
  }
  return series
}

/** Parses `?window=`; the default for anything else. */
export function parseChartWindow(value: string | null): ChartWindow {
  return value !== null && value in CHART_WINDOWS ? (value as ChartWindow) : DEFAULT_CHART_WINDOW
}

/** Blog ids as they appear in URLs: decimal, within BIGINT UNSIGNED. */
export function parseBlogId(text: string): bigint | null {
  if (!/^\d{1,20}$/.test(text)) return null
  const id = BigInt(text)
  return id > 0n && id <= 18446744073709551615n ? id : null
}
