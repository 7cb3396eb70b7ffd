/**
 * Reading sites, endpoints and maintenance windows, and turning rows into their wire form:
 * effective configuration (the scheduler's defaults applied), runtime state, and the derived
 * site/endpoint state of docs/events.md ("Site state").
 */
import type { MaintenanceWindow, SiteDetail, SiteEndpoint, SiteSummary } from '@jetmon/api-client'
import {
  auditLog,
  type DbOrTx,
  endpointConfig,
  endpointState,
  events,
  maintenanceWindows,
  monitorSites,
  siteTenants,
} from '@jetmon/db'
import { type Event, listOpenEvents } from '@jetmon/eventstore'
import { DEFAULT_ENDPOINT_DEFAULTS } from '@jetmon/scheduler'
import { type DetectionProfile, jsonId, type RedirectPolicy, type RequestMethod } from '@jetmon/vocabulary'
import { and, asc, type Column, desc, eq, gt, gte, inArray, isNull, lte, max, type SQL, sql } from 'drizzle-orm'
import { type CheckPolicyDefaults, DEFAULT_CHECK_POLICY } from './check-policy.js'

/** Defaults of NULL configuration columns (docs/architecture.md; the monitor's own defaults for the rest). */
const DEFAULT_MAX_REDIRECTS = 10
const DEFAULT_CHECK_INTERVAL_MIN = 5

/** The columns of one endpoint: the legacy row, its configuration sidecar and its runtime state. */
export const endpointColumns = {
  endpointId: monitorSites.endpointId,
  blogId: monitorSites.blogId,
  bucketNo: monitorSites.bucketNo,
  monitorUrl: monitorSites.monitorUrl,
  monitorActive: monitorSites.monitorActive,
  checkInterval: monitorSites.checkInterval,
  checkIntervalSec: endpointConfig.checkIntervalSec,
  timeoutMs: endpointConfig.timeoutMs,
  requestMethod: endpointConfig.requestMethod,
  detectionProfile: endpointConfig.detectionProfile,
  redirectPolicy: endpointConfig.redirectPolicy,
  maxRedirects: endpointConfig.maxRedirects,
  checkKeyword: endpointConfig.checkKeyword,
  // Raw JSON text: a malformed value written by another tool costs one field its default, not the request.
  forbiddenKeywords: sql<unknown>`${endpointConfig.forbiddenKeywords}`,
  keywordCaseSensitive: endpointConfig.keywordCaseSensitive,
  // Only the header names: the values can be secrets and never leave the database here.
  customHeaderNames: sql<unknown>`JSON_KEYS(${endpointConfig.customHeaders})`,
  latencyThresholdMs: endpointConfig.latencyThresholdMs,
  tlsExpiryWarnDays: endpointConfig.tlsExpiryWarnDays,
  alertCooldownMinutes: endpointConfig.alertCooldownMinutes,
  configUpdatedAt: endpointConfig.updatedAt,
  lastCheckedAt: endpointState.lastCheckedAt,
  lastHttpCode: endpointState.lastHttpCode,
  lastErrorCode: endpointState.lastErrorCode,
  sslExpiresAt: endpointState.sslExpiresAt,
  tlsVersion: endpointState.tlsVersion,
}

export interface EndpointRow {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  monitorUrl: string
  monitorActive: number
  checkInterval: number
  checkIntervalSec: number | null
  timeoutMs: number | null
  requestMethod: RequestMethod | null
  detectionProfile: DetectionProfile | null
  redirectPolicy: RedirectPolicy | null
  maxRedirects: number | null
  checkKeyword: string | null
  forbiddenKeywords: unknown
  keywordCaseSensitive: number | null
  customHeaderNames: unknown
  latencyThresholdMs: number | null
  tlsExpiryWarnDays: number | null
  alertCooldownMinutes: number | null
  configUpdatedAt: Date | null
  lastCheckedAt: Date | null
  lastHttpCode: number | null
  lastErrorCode: number | null
  sslExpiresAt: Date | null
  tlsVersion: string | null
}

export type WindowRow = typeof maintenanceWindows.$inferSelect

/** Endpoints matching `where`, with their configuration and runtime state, by endpoint id. */
export async function selectEndpoints({
  ctx,
  where,
  limit,
}: {
  ctx: { db: DbOrTx }
  where: SQL | undefined
  limit?: number
}): Promise<EndpointRow[]> {
  const query = ctx.db
    .select(endpointColumns)
    .from(monitorSites)
    .leftJoin(endpointConfig, eq(endpointConfig.endpointId, monitorSites.endpointId))
    .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
    .where(where)
    .orderBy(asc(monitorSites.endpointId))
  return (limit === undefined ? await query : await query.limit(limit)) as EndpointRow[]
}

/**
 * Gateway tenancy as a condition on a blog id column: with a tenant, only blogs mapped to it in
 * `jetmon_site_tenants`; without one, everything.
 */
export function tenantCondition(tenantId: string | null, blogIdColumn: Column): SQL | undefined {
  if (tenantId === null) return undefined
  return sql`${blogIdColumn} IN (SELECT ${siteTenants.blogId} FROM ${siteTenants} WHERE ${siteTenants.tenantId} = ${tenantId})`
}

/** Whether the blog has at least one endpoint the caller may see (404 otherwise). */
export async function siteVisible({
  ctx,
  blogId,
  tenantId,
}: {
  ctx: { db: DbOrTx }
  blogId: bigint
  tenantId: string | null
}): Promise<boolean> {
  const [row] = await ctx.db
    .select({ one: sql`1` })
    .from(monitorSites)
    .where(and(eq(monitorSites.blogId, blogId), tenantCondition(tenantId, monitorSites.blogId)))
    .limit(1)
  return row !== undefined
}

/** Windows of the blog covering `now` (`starts_at <= now < ends_at`). */
export function currentWindows({
  ctx,
  blogIds,
  now,
}: {
  ctx: { db: DbOrTx }
  blogIds: readonly bigint[]
  now: Date
}): Promise<WindowRow[]> {
  if (blogIds.length === 0) return Promise.resolve([])
  return ctx.db
    .select()
    .from(maintenanceWindows)
    .where(
      and(
        inArray(maintenanceWindows.blogId, [...blogIds]),
        gt(maintenanceWindows.endsAt, now),
        lte(maintenanceWindows.startsAt, now),
      ),
    )
}

/** Whether a current window covers the endpoint: a site-wide one or one naming it. */
export function windowCovers(windows: readonly WindowRow[], endpoint: { endpointId: bigint; blogId: bigint }): boolean {
  return windows.some(
    (window) =>
      window.blogId === endpoint.blogId && (window.endpointId === null || window.endpointId === endpoint.endpointId),
  )
}

/** An open event, as far as site and endpoint answers need it. */
export type OpenEvent = Pick<
  Event,
  'id' | 'blogId' | 'endpointId' | 'checkType' | 'discriminator' | 'severity' | 'state' | 'startedAt'
>

/** Open events of these endpoints, worst first (highest severity, then earliest start), in one query. */
export async function openEventsOfEndpoints(db: DbOrTx, endpointIds: readonly bigint[]): Promise<OpenEvent[]> {
  if (endpointIds.length === 0) return []
  const rows = await db
    .select({
      id: events.id,
      blogId: events.blogId,
      endpointId: events.endpointId,
      checkType: events.checkType,
      discriminator: events.discriminator,
      severity: events.severity,
      state: events.state,
      startedAt: events.startedAt,
    })
    .from(events)
    .where(and(inArray(events.endpointId, [...new Set(endpointIds)]), isNull(events.endedAt)))
    .orderBy(desc(events.severity), asc(events.startedAt), asc(events.id))
  return rows as OpenEvent[]
}

/** Parses JSON text (MariaDB) or takes a parsed value (MySQL 8); undefined when unusable. */
function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

function stringList(raw: unknown): string[] {
  const value = parseJson(raw)
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return []
  return value.filter((item) => item.length > 0)
}

/** What derives an endpoint's state: its open events (worst first) and the windows covering it now. */
export interface EndpointFacts {
  openEvents: readonly OpenEvent[]
  windows: readonly WindowRow[]
}

/**
 * An endpoint's state: `Paused` when inactive; `Maintenance` when a current window covers it; else
 * its worst open event's state; else `Up`.
 */
export function endpointStateOf(
  row: Pick<EndpointRow, 'endpointId' | 'blogId' | 'monitorActive'>,
  facts: EndpointFacts,
) {
  const worst = facts.openEvents.find((event) => event.endpointId === row.endpointId) ?? null
  return stateOf(row.monitorActive !== 0, windowCovers(facts.windows, row), worst)
}

function stateOf(active: boolean, covered: boolean, worst: OpenEvent | null) {
  const state: SiteSummary['current_state'] = !active ? 'Paused' : covered ? 'Maintenance' : (worst?.state ?? 'Up')
  const severity = active && !covered && worst ? worst.severity : 0
  return {
    current_state: state,
    current_severity: severity,
    active_event_id: worst ? jsonId(worst.id) : null,
  }
}

/**
 * One endpoint in its wire form: effective configuration (defaults applied), state, runtime. A
 * NULL request method or detection profile is the fleet default `policy` names.
 */
export function endpointToJson(
  row: EndpointRow,
  facts: EndpointFacts,
  policy: CheckPolicyDefaults = DEFAULT_CHECK_POLICY,
): SiteEndpoint {
  const defaults = DEFAULT_ENDPOINT_DEFAULTS
  const headerNames = stringList(row.customHeaderNames)
  return {
    endpoint_id: jsonId(row.endpointId),
    blog_id: jsonId(row.blogId),
    monitor_url: row.monitorUrl,
    monitor_active: row.monitorActive !== 0,
    bucket_no: row.bucketNo,
    // The scheduler's rule: check_interval_sec when set (> 0), else the legacy minutes (at least 1).
    check_interval_sec:
      row.checkIntervalSec !== null && row.checkIntervalSec > 0
        ? row.checkIntervalSec
        : Math.max(1, row.checkInterval || DEFAULT_CHECK_INTERVAL_MIN) * 60,
    timeout_ms: row.timeoutMs !== null && row.timeoutMs > 0 ? row.timeoutMs : defaults.timeoutMs,
    request_method: row.requestMethod ?? policy.requestMethod,
    detection_profile: row.detectionProfile ?? policy.detectionProfile,
    redirect_policy: row.redirectPolicy ?? 'follow',
    max_redirects: row.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
    check_keyword: row.checkKeyword ? row.checkKeyword : null,
    forbidden_keywords: stringList(row.forbiddenKeywords),
    keyword_case_sensitive: row.keywordCaseSensitive === null ? true : row.keywordCaseSensitive !== 0,
    custom_header_names: headerNames.sort(),
    latency_threshold_ms: row.latencyThresholdMs !== null && row.latencyThresholdMs > 0 ? row.latencyThresholdMs : null,
    tls_expiry_warn_days: row.tlsExpiryWarnDays ?? defaults.tlsExpiryWarnDays,
    alert_cooldown_minutes: row.alertCooldownMinutes ?? defaults.alertCooldownMinutes,
    ...endpointStateOf(row, facts),
    runtime: {
      last_checked_at: row.lastCheckedAt?.toISOString() ?? null,
      last_http_code: row.lastHttpCode,
      last_error_code: row.lastErrorCode,
      ssl_expires_at: row.sslExpiresAt?.toISOString() ?? null,
      tls_version: row.tlsVersion,
    },
    config_updated_at: row.configUpdatedAt?.toISOString() ?? null,
  }
}

/** A maintenance window in its wire form; `status` is relative to `now`. */
export function windowToJson(row: WindowRow, now: Date): MaintenanceWindow {
  const t = now.getTime()
  return {
    id: jsonId(row.id),
    blog_id: jsonId(row.blogId),
    endpoint_id: row.endpointId === null ? null : jsonId(row.endpointId),
    starts_at: row.startsAt.toISOString(),
    ends_at: row.endsAt.toISOString(),
    reason: row.reason,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    status: row.endsAt.getTime() <= t ? 'past' : row.startsAt.getTime() <= t ? 'current' : 'future',
  }
}

/**
 * `confirmation: "unavailable"` when the latest `veriflier_request` audit row of one of these
 * (open, Seems Down, http) events is inconclusive — the monitor writes one each time too few
 * verifliers answer (packages/monitor/src/pipeline.ts). One query.
 */
async function confirmationOf(
  db: DbOrTx,
  blogId: bigint,
  seemsDown: readonly OpenEvent[],
): Promise<'unavailable' | null> {
  if (seemsDown.length === 0) return null
  const since = new Date(Math.min(...seemsDown.map((event) => event.startedAt.getTime())))
  const latest = db
    .select({ id: max(auditLog.id).as('latest_id') })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.blogId, blogId),
        eq(auditLog.eventType, 'veriflier_request'),
        gte(auditLog.createdAt, since),
        inArray(
          auditLog.eventId,
          seemsDown.map((event) => event.id),
        ),
      ),
    )
    .groupBy(auditLog.eventId)
    .as('latest')
  const rows = await db
    .select({ metadata: sql<unknown>`${auditLog.metadata}` })
    .from(auditLog)
    .innerJoin(latest, eq(auditLog.id, latest.id))
  return rows.some((row) => {
    const metadata = parseJson(row.metadata) as { outcome?: unknown } | null | undefined
    return metadata?.outcome === 'inconclusive'
  })
    ? 'unavailable'
    : null
}

/** The site's detail (`GET /sites/{blog_id}`) read from `db`; null when the blog has no endpoints. */
export async function loadSiteDetail({
  ctx,
  blogId,
  now,
  policy = DEFAULT_CHECK_POLICY,
}: {
  ctx: { db: DbOrTx }
  blogId: bigint
  now: Date
  /** The fleet defaults a NULL request method or detection profile stands for. */
  policy?: CheckPolicyDefaults
}): Promise<SiteDetail | null> {
  const { db } = ctx
  const endpoints = await selectEndpoints({ ctx, where: eq(monitorSites.blogId, blogId) })
  if (endpoints.length === 0) return null
  const [open, windows] = await Promise.all([
    listOpenEvents({ ctx: { db }, blogId }),
    currentWindows({ ctx, blogIds: [blogId], now }),
  ])
  const facts = { openEvents: open, windows }
  const active = endpoints.filter((row) => row.monitorActive !== 0)
  const covered = active.length > 0 && active.every((row) => windowCovers(windows, row))
  const seemsDown = open.filter((event) => event.checkType === 'http' && event.state === 'Seems Down')
  const lastChecked = endpoints.reduce<Date | null>(
    (latest, row) => (row.lastCheckedAt && (!latest || row.lastCheckedAt > latest) ? row.lastCheckedAt : latest),
    null,
  )
  const siteWideFirst = [...windows].sort(
    (a, b) =>
      Number(a.endpointId !== null) - Number(b.endpointId !== null) ||
      b.endsAt.getTime() - a.endsAt.getTime() ||
      (a.id < b.id ? -1 : 1),
  )
  return {
    blog_id: jsonId(blogId),
    monitor_url: endpoints[0]!.monitorUrl,
    endpoint_count: endpoints.length,
    active_endpoint_count: active.length,
    monitor_active: active.length > 0,
    ...stateOf(active.length > 0, covered, open[0] ?? null),
    last_checked_at: lastChecked?.toISOString() ?? null,
    endpoints: endpoints.map((row) => endpointToJson(row, facts, policy)),
    active_events: open.map((event) => ({
      id: jsonId(event.id),
      endpoint_id: event.endpointId === null ? null : jsonId(event.endpointId),
      check_type: event.checkType,
      discriminator: event.discriminator,
      severity: event.severity,
      state: event.state,
      started_at: event.startedAt.toISOString(),
    })),
    maintenance: siteWideFirst[0] ? windowToJson(siteWideFirst[0], now) : null,
    confirmation: await confirmationOf(db, blogId, seemsDown),
  }
}
