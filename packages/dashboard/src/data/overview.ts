/**
 * The overview's data: counts by state, the sites list (worst first, searchable, filterable) with
 * sparklines, and the open incidents. Every read is bounded: the sites list is at most `limit`
 * rows found through the API's indexed site-page statement, one state at a time; counts combine a
 * cached fleet-wide aggregate with the (few) sites that have an open event or a current window.
 */
import { auditLog, checkHistory, checkRollups, type DbOrTx, events, maintenanceWindows, monitorSites } from '@jetmon/db'
import type { HistoryMode } from '@jetmon/history'
import { listSitePage } from '@jetmon/read-models'
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, lte, max, sql } from 'drizzle-orm'
import { COUNTED_STATES, type CountedState, WORST_FIRST } from '../_states.js'
import { type Evidence, evidenceOf, redactUrl } from './_evidence.js'
import { chunked, datetimeLiteral, intLiteral, NOT_DOWNTIME_LIST, toDate, toNumber } from './_sql.js'
import { loadObjectivesAtRisk, type ObjectivesAtRisk } from './objectives.js'

/** One row of the sites list. */
export interface SiteRow {
  blogId: bigint
  /** The primary endpoint's URL, credentials removed. */
  url: string
  state: CountedState
  severity: number
  /** Since when the site is in this state, when known. */
  since: Date | null
  lastCheckedAt: Date | null
  endpointCount: number
  activeEndpointCount: number
  /** Mean response time of successful checks per sparkline bucket (null: no successful check). */
  spark: (number | null)[]
  /** Buckets with at least one failed check (1) or none (0). */
  sparkFailed: number[]
  /** The newest bucket's mean response time. */
  latestMs: number | null
}

/** One open incident. */
export interface Incident {
  id: bigint
  blogId: bigint
  endpointId: bigint | null
  url: string | null
  checkType: string
  state: string
  severity: number
  startedAt: Date
  evidence: Evidence
  /** No quorum of verifliers could answer the last confirmation round (Seems Down stays). */
  confirmationUnavailable: boolean
}

export interface OverviewQuery {
  /** Substring of a URL, or a blog id. */
  q: string | null
  state: CountedState | null
  limit: number
}

export interface Overview {
  counts: Record<CountedState, number>
  totalSites: number
  sites: SiteRow[]
  /** More sites match than the list shows. */
  more: boolean
  incidents: Incident[]
  openIncidentCount: number
  /** Service level objectives whose budget runs low or whose alert rules fire, worst first. */
  atRisk: ObjectivesAtRisk
  /** What the sparklines cover. */
  spark: { fromMs: number; stepMs: number; buckets: number; source: 'raw' | 'rollup' }
}

export interface OverviewDeps {
  db: DbOrTx
  now: Date
  historyMode: HistoryMode
  counts: FleetTotalsCache
}

const SPARK_BUCKETS = 36
const SPARK_STEP_MS = 10 * 60_000
const MAX_INCIDENTS = 50

/**
 * The fleet-wide part of the counts (how many sites, how many paused): one aggregate over every
 * endpoint row, so it is computed at most once per `ttlMs` whatever the number of open pages.
 */
export class FleetTotalsCache {
  private value: { at: number; totals: Promise<{ sites: number; paused: number }> } | null = null

  constructor(private readonly ttlMs = 10_000) {}

  /** Sites and paused sites, at most `ttlMs` old. */
  get(db: DbOrTx, nowMs: number): Promise<{ sites: number; paused: number }> {
    if (this.value && nowMs - this.value.at < this.ttlMs) return this.value.totals
    const totals = (async () => {
      const [rows] = (await db.execute(sql`SELECT COUNT(*) AS sites, COALESCE(SUM(per_blog.active = 0), 0) AS paused
        FROM (SELECT ${monitorSites.blogId} AS blog_id, SUM(${monitorSites.monitorActive} <> 0) AS active
          FROM ${monitorSites} GROUP BY ${monitorSites.blogId}) AS per_blog`)) as unknown as [
        { sites: unknown; paused: unknown }[],
      ]
      return { sites: toNumber(rows[0]?.sites) ?? 0, paused: toNumber(rows[0]?.paused) ?? 0 }
    })()
    this.value = { at: nowMs, totals }
    totals.catch(() => {
      if (this.value?.totals === totals) this.value = null
    })
    return totals
  }

  /** Forget the cached totals (a site was paused, resumed, added or deleted). */
  invalidate(): void {
    this.value = null
  }
}

/**
 * Counts by state. Sites with an open event or a current maintenance window are classified one by
 * one (there are few); the rest are Up or Paused, from the cached totals.
 */
export async function stateCounts(
  deps: Pick<OverviewDeps, 'db' | 'now' | 'counts'>,
): Promise<{ counts: Record<CountedState, number>; totalSites: number }> {
  const { db, now } = deps
  const [totals, openRows, windowRows] = await Promise.all([
    deps.counts.get(db, now.getTime()),
    // dedup_key is non-NULL exactly while an event is open, and its unique index holds only those.
    db
      .select({
        blogId: events.blogId,
        state: events.state,
        severity: events.severity,
        startedAt: events.startedAt,
        id: events.id,
      })
      .from(events)
      .where(isNotNull(events.dedupKey)),
    db
      .select({ blogId: maintenanceWindows.blogId, endpointId: maintenanceWindows.endpointId })
      .from(maintenanceWindows)
      .where(and(lte(maintenanceWindows.startsAt, now), gt(maintenanceWindows.endsAt, now))),
  ])
  const worst = new Map<bigint, (typeof openRows)[number]>()
  for (const row of openRows) {
    const current = worst.get(row.blogId)
    if (
      !current ||
      row.severity > current.severity ||
      (row.severity === current.severity &&
        (row.startedAt < current.startedAt ||
          (row.startedAt.getTime() === current.startedAt.getTime() && row.id < current.id)))
    ) {
      worst.set(row.blogId, row)
    }
  }
  const candidates = [...new Set([...worst.keys(), ...windowRows.map((row) => row.blogId)])]
  const endpointsOf = new Map<bigint, { endpointId: bigint; active: boolean }[]>()
  for (const chunk of chunked(candidates)) {
    const rows = await db
      .select({ endpointId: monitorSites.endpointId, blogId: monitorSites.blogId, active: monitorSites.monitorActive })
      .from(monitorSites)
      .where(inArray(monitorSites.blogId, chunk))
    for (const row of rows) {
      const list = endpointsOf.get(row.blogId) ?? []
      list.push({ endpointId: row.endpointId, active: row.active !== 0 })
      endpointsOf.set(row.blogId, list)
    }
  }
  const counts = Object.fromEntries(COUNTED_STATES.map((state) => [state, 0])) as Record<CountedState, number>
  let notUp = 0
  for (const blogId of candidates) {
    const endpoints = endpointsOf.get(blogId)
    if (!endpoints) continue // events of a site that has no endpoint rows any more
    const active = endpoints.filter((endpoint) => endpoint.active)
    if (active.length === 0) continue // Paused: counted by the totals
    const windows = windowRows.filter((window) => window.blogId === blogId)
    const covered =
      windows.length > 0 &&
      active.every((endpoint) =>
        windows.some((window) => window.endpointId === null || window.endpointId === endpoint.endpointId),
      )
    const state = covered ? 'Maintenance' : (worst.get(blogId)?.state as CountedState | undefined)
    if (!state || !(state in counts)) continue
    counts[state]++
    notUp++
  }
  counts.Paused = totals.paused
  counts.Up = Math.max(0, totals.sites - totals.paused - notUp)
  return { counts, totalSites: totals.sites }
}

/** A blog id typed into the search box (digits only). */
function blogIdQuery(q: string): bigint | null {
  return /^\d{1,20}$/.test(q) && BigInt(q) <= 18446744073709551615n ? BigInt(q) : null
}

/** The sites list: worst state first (then longest in that state), at most `limit` rows. */
export async function listSites(
  deps: OverviewDeps,
  query: OverviewQuery,
): Promise<{ sites: SiteRow[]; more: boolean; spark: Overview['spark'] }> {
  const { db, now } = deps
  const states = query.state ? [query.state] : WORST_FIRST
  const byId = query.q ? blogIdQuery(query.q) : null
  const picked: { blogId: bigint; item: Awaited<ReturnType<typeof listSitePage>>[number]['item'] }[] = []
  let more = false
  for (const state of states) {
    const room = query.limit - picked.length
    if (room <= 0) {
      more = true
      break
    }
    const page = await listSitePage({
      ctx: { db },
      now,
      tenantId: null,
      // A blog id is found by its page position: the page after id − 1, one row.
      after: byId === null ? null : byId === 0n ? null : byId - 1n,
      limit: byId === null ? room : 1,
      states: new Set([state]),
      minSeverity: null,
      monitorActive: null,
      q: byId === null ? query.q : null,
    })
    const rows = byId === null ? page : page.filter((row) => row.blogId === byId)
    if (rows.length > room) more = true
    picked.push(...rows.slice(0, room))
  }
  if (picked.length === 0) return { sites: [], more, spark: sparkWindow(now, deps.historyMode) }

  const blogIds = picked.map((row) => row.blogId)
  const eventIds = picked.map((row) => row.item.active_event_id).filter((id) => id !== null)
  const upBlogs = picked.filter((row) => row.item.current_state === 'Up').map((row) => row.blogId)
  const maintenanceBlogs = picked.filter((row) => row.item.current_state === 'Maintenance').map((row) => row.blogId)
  const [eventStarts, lastEnded, windowStarts, spark] = await Promise.all([
    eventIds.length
      ? db
          .select({ id: events.id, startedAt: events.startedAt })
          .from(events)
          .where(
            inArray(
              events.id,
              eventIds.map((id) => BigInt(id)),
            ),
          )
      : [],
    upBlogs.length
      ? db
          .select({ blogId: events.blogId, endedAt: max(events.endedAt) })
          .from(events)
          .where(and(inArray(events.blogId, upBlogs), isNotNull(events.endedAt)))
          .groupBy(events.blogId)
      : [],
    maintenanceBlogs.length
      ? db
          .select({ blogId: maintenanceWindows.blogId, startsAt: sql<unknown>`MIN(${maintenanceWindows.startsAt})` })
          .from(maintenanceWindows)
          .where(
            and(
              inArray(maintenanceWindows.blogId, maintenanceBlogs),
              lte(maintenanceWindows.startsAt, now),
              gt(maintenanceWindows.endsAt, now),
            ),
          )
          .groupBy(maintenanceWindows.blogId)
      : [],
    sparklines(db, blogIds, now, deps.historyMode),
  ])
  const startOf = new Map(eventStarts.map((row) => [row.id, row.startedAt]))
  const endedOf = new Map(lastEnded.map((row) => [row.blogId, row.endedAt]))
  const windowOf = new Map(windowStarts.map((row) => [row.blogId, toDate(row.startsAt)]))

  const sites = picked.map(({ blogId, item }): SiteRow => {
    const state = item.current_state as CountedState
    const since =
      item.active_event_id !== null && state !== 'Maintenance' && state !== 'Paused'
        ? (startOf.get(BigInt(item.active_event_id)) ?? null)
        : state === 'Up'
          ? (endedOf.get(blogId) ?? null)
          : state === 'Maintenance'
            ? (windowOf.get(blogId) ?? null)
            : null
    const series = spark.series.get(blogId)
    const lastFromState = item.last_checked_at ? new Date(item.last_checked_at) : null
    const lastFromHistory = series?.last ?? null
    const lastCheckedAt = newest(lastFromState, lastFromHistory)
    const values = series?.values ?? new Array<number | null>(spark.window.buckets).fill(null)
    return {
      blogId,
      url: redactUrl(item.monitor_url),
      state,
      severity: item.current_severity,
      since,
      lastCheckedAt,
      endpointCount: item.endpoint_count,
      activeEndpointCount: item.active_endpoint_count,
      spark: values,
      sparkFailed: series?.failed ?? new Array<number>(spark.window.buckets).fill(0),
      latestMs: [...values].reverse().find((value) => value !== null) ?? null,
    }
  })
  // Within a state, longest in it first (the longest-running problem is the "worst": earliest start); unknown starts last.
  const rank = new Map<string, number>(WORST_FIRST.map((state, i) => [state, i]))
  sites.sort(
    (a, b) =>
      (rank.get(a.state) ?? 99) - (rank.get(b.state) ?? 99) ||
      (a.state === 'Up'
        ? 0
        : (a.since?.getTime() ?? Number.MAX_SAFE_INTEGER) - (b.since?.getTime() ?? Number.MAX_SAFE_INTEGER)) ||
      (a.blogId < b.blogId ? -1 : 1),
  )
  return { sites, more, spark: spark.window }
}

/** The later of two optional times. */
function newest(a: Date | null, b: Date | null): Date | null {
  if (!a || !b) return a ?? b
  return a.getTime() >= b.getTime() ? a : b
}

function sparkWindow(now: Date, mode: HistoryMode): Overview['spark'] {
  if (mode === 'failures') {
    // Raw history lacks healthy checks: hourly rollups over a day instead.
    const hour = 3_600_000
    const end = Math.floor(now.getTime() / hour) * hour
    return { fromMs: end - 24 * hour, stepMs: hour, buckets: 24, source: 'rollup' }
  }
  const end = Math.floor(now.getTime() / SPARK_STEP_MS) * SPARK_STEP_MS + SPARK_STEP_MS
  return { fromMs: end - SPARK_BUCKETS * SPARK_STEP_MS, stepMs: SPARK_STEP_MS, buckets: SPARK_BUCKETS, source: 'raw' }
}

/**
 * Mean response time of successful local checks per bucket for a page of sites, in one grouped
 * statement along the `(blog_id, checked_at)` index (or the rollups' `(blog_id, hour_start)`).
 */
async function sparklines(
  db: DbOrTx,
  blogIds: readonly bigint[],
  now: Date,
  mode: HistoryMode,
): Promise<{
  window: Overview['spark']
  series: Map<bigint, { values: (number | null)[]; failed: number[]; last: Date | null }>
}> {
  const window = sparkWindow(now, mode)
  const from = new Date(window.fromMs)
  const to = new Date(window.fromMs + window.buckets * window.stepMs)
  const series = new Map<bigint, { values: (number | null)[]; failed: number[]; last: Date | null }>()
  const entry = (blogId: bigint) => {
    let found = series.get(blogId)
    if (!found) {
      found = {
        values: new Array<number | null>(window.buckets).fill(null),
        failed: new Array<number>(window.buckets).fill(0),
        last: null,
      }
      series.set(blogId, found)
    }
    return found
  }
  if (window.source === 'rollup') {
    const rows = await db
      .select({
        blogId: checkRollups.blogId,
        hourStart: checkRollups.hourStart,
        checks: sql<unknown>`SUM(${checkRollups.checks})`,
        failures: sql<unknown>`SUM(${checkRollups.failures})`,
        rttSum: sql<unknown>`SUM(${checkRollups.rttSumMs})`,
      })
      .from(checkRollups)
      .where(
        and(
          inArray(checkRollups.blogId, [...blogIds]),
          gte(checkRollups.hourStart, from),
          lt(checkRollups.hourStart, to),
        ),
      )
      .groupBy(checkRollups.blogId, checkRollups.hourStart)
    for (const row of rows) {
      const i = Math.floor((row.hourStart.getTime() - window.fromMs) / window.stepMs)
      if (i < 0 || i >= window.buckets) continue
      const target = entry(row.blogId)
      const ok = (toNumber(row.checks) ?? 0) - (toNumber(row.failures) ?? 0)
      target.values[i] = ok > 0 ? Math.round((toNumber(row.rttSum) ?? 0) / ok) : null
      target.failed[i] = (toNumber(row.failures) ?? 0) > 0 ? 1 : 0
    }
    return { window, series }
  }
  const bucket = sql`TIMESTAMPDIFF(SECOND, ${datetimeLiteral(from)}, ${checkHistory.checkedAt}) DIV ${intLiteral(window.stepMs / 1000)}`
  const rows = await db
    .select({
      blogId: checkHistory.blogId,
      bucket: sql<unknown>`${bucket}`,
      rtt: sql<unknown>`AVG(CASE WHEN ${checkHistory.errorCode} IN (${NOT_DOWNTIME_LIST}) THEN ${checkHistory.rttMs} END)`,
      failed: sql<unknown>`SUM(${checkHistory.errorCode} NOT IN (${NOT_DOWNTIME_LIST}))`,
      last: sql<unknown>`MAX(${checkHistory.checkedAt})`,
    })
    .from(checkHistory)
    .where(
      and(
        inArray(checkHistory.blogId, [...blogIds]),
        gte(checkHistory.checkedAt, from),
        lt(checkHistory.checkedAt, to),
        eq(checkHistory.vantage, 'local'),
      ),
    )
    .groupBy(checkHistory.blogId, bucket)
  for (const row of rows) {
    const i = toNumber(row.bucket)
    if (i === null || i < 0 || i >= window.buckets) continue
    const target = entry(row.blogId)
    const rtt = toNumber(row.rtt)
    target.values[i] = rtt === null ? null : Math.round(rtt)
    target.failed[i] = (toNumber(row.failed) ?? 0) > 0 ? 1 : 0
    const last = toDate(row.last)
    if (last && (!target.last || last > target.last)) target.last = last
  }
  return { window, series }
}

/** The open incidents, worst first (highest severity, then earliest start), at most 50. */
export async function openIncidents(
  db: DbOrTx,
  limit = MAX_INCIDENTS,
): Promise<{ incidents: Incident[]; total: number }> {
  const [rows, [count]] = await Promise.all([
    db
      .select({
        id: events.id,
        blogId: events.blogId,
        endpointId: events.endpointId,
        checkType: events.checkType,
        state: events.state,
        severity: events.severity,
        startedAt: events.startedAt,
        metadata: events.metadata,
        url: monitorSites.monitorUrl,
      })
      .from(events)
      .leftJoin(monitorSites, eq(monitorSites.endpointId, events.endpointId))
      .where(isNotNull(events.dedupKey))
      .orderBy(desc(events.severity), asc(events.startedAt), asc(events.id))
      .limit(limit),
    db.select({ n: sql<unknown>`COUNT(*)` }).from(events).where(isNotNull(events.dedupKey)),
  ])
  const unavailable = await unavailableConfirmations(
    db,
    rows.filter((row) => row.checkType === 'http' && row.state === 'Seems Down'),
  )
  return {
    total: toNumber(count?.n) ?? rows.length,
    incidents: rows.map((row) => ({
      id: row.id,
      blogId: row.blogId,
      endpointId: row.endpointId,
      url: row.url === null ? null : redactUrl(row.url),
      checkType: row.checkType,
      state: row.state,
      severity: row.severity,
      startedAt: row.startedAt,
      evidence: evidenceOf(row.checkType, row.metadata),
      confirmationUnavailable: unavailable.has(row.id),
    })),
  }
}

/**
 * Seems Down events whose latest confirmation round was inconclusive (the monitor audits each
 * round as `veriflier_request`): found through the audit log's `(blog_id, created_at)` index.
 */
export async function unavailableConfirmations(
  db: DbOrTx,
  seemsDown: readonly { id: bigint; blogId: bigint; startedAt: Date }[],
): Promise<Set<bigint>> {
  const found = new Set<bigint>()
  if (seemsDown.length === 0) return found
  const since = new Date(Math.min(...seemsDown.map((event) => event.startedAt.getTime())))
  const rows = await db
    .select({ id: auditLog.id, eventId: auditLog.eventId, metadata: auditLog.metadata })
    .from(auditLog)
    .where(
      and(
        inArray(auditLog.blogId, [...new Set(seemsDown.map((event) => event.blogId))]),
        gte(auditLog.createdAt, since),
        eq(auditLog.eventType, 'veriflier_request'),
        inArray(
          auditLog.eventId,
          seemsDown.map((event) => event.id),
        ),
      ),
    )
    .orderBy(asc(auditLog.id))
  const latest = new Map<bigint, unknown>()
  for (const row of rows) if (row.eventId !== null) latest.set(row.eventId, row.metadata)
  for (const [eventId, metadata] of latest) {
    if ((metadata as { outcome?: unknown } | null)?.outcome === 'inconclusive') found.add(eventId)
  }
  return found
}

/** Everything the overview shows. */
export async function loadOverview(deps: OverviewDeps, query: OverviewQuery): Promise<Overview> {
  const [counted, list, open, atRisk] = await Promise.all([
    stateCounts(deps),
    listSites(deps, query),
    openIncidents(deps.db),
    loadObjectivesAtRisk(deps),
  ])
  return {
    counts: counted.counts,
    totalSites: counted.totalSites,
    sites: list.sites,
    more: list.more,
    incidents: open.incidents,
    openIncidentCount: open.total,
    atRisk,
    spark: list.spark,
  }
}
