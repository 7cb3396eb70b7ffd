/**
 * Writes behind the site and endpoint routes. Every change to a `jetpack_monitor_sites` row or its
 * configuration is announced to the monitor in the same transaction, the way
 * `EndpointSource.refresh` (@jetmon/scheduler) picks changes up without a full reload: the
 * `jetmon_endpoint_config.updated_at` of each endpoint is set explicitly (the column has no
 * ON UPDATE clause; the row is upserted) and an `endpoint_changed` audit row names it.
 */
import type { EndpointConfigChanges } from '@jetmon/api-client'
import { auditLog, type Db, endpointConfig, events, monitorSites, type Tx, withTransaction } from '@jetmon/db'
import { closeEvent } from '@jetmon/eventstore'
import { ENDPOINT_CHANGED_EVENT } from '@jetmon/scheduler'
import { and, asc, eq, inArray, isNull } from 'drizzle-orm'

/** Who writes, and when (one clock reading per request). */
export interface WriteScope {
  source: string
  now: Date
}

const DEADLOCK_ATTEMPTS = 5

function isDeadlock(error: unknown): boolean {
  // drizzle wraps the driver's error and keeps it as `cause`.
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ER_LOCK_DEADLOCK') return true
  }
  return false
}

/**
 * One transaction per request. InnoDB may pick it as a deadlock victim (two requests inserting
 * into the same blog's key range, or a close racing the monitor): it was rolled back as a whole,
 * so it is run again, up to five times in all, after a short random pause that grows with each
 * attempt so that the same two requests do not meet again in step.
 */
export async function inTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(db, fn)
    } catch (error) {
      if (attempt >= DEADLOCK_ATTEMPTS || !isDeadlock(error)) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt))
    }
  }
}

type ConfigColumns = Partial<Omit<typeof endpointConfig.$inferInsert, 'endpointId' | 'createdAt' | 'updatedAt'>>
type SiteColumns = Partial<Pick<typeof monitorSites.$inferInsert, 'monitorActive' | 'bucketNo' | 'monitorUrl'>>

/** The `jetmon_endpoint_config` columns a request changes (empty lists and objects stored as NULL = none). */
export function configColumnsOf(body: EndpointConfigChanges): ConfigColumns {
  const columns: ConfigColumns = {}
  if (body.check_interval_sec !== undefined) columns.checkIntervalSec = body.check_interval_sec
  if (body.timeout_ms !== undefined) columns.timeoutMs = body.timeout_ms
  if (body.request_method !== undefined) columns.requestMethod = body.request_method
  if (body.detection_profile !== undefined) columns.detectionProfile = body.detection_profile
  if (body.redirect_policy !== undefined) columns.redirectPolicy = body.redirect_policy
  if (body.max_redirects !== undefined) columns.maxRedirects = body.max_redirects
  if (body.check_keyword !== undefined) columns.checkKeyword = body.check_keyword
  if (body.forbidden_keywords !== undefined) {
    columns.forbiddenKeywords = body.forbidden_keywords?.length ? body.forbidden_keywords : null
  }
  if (body.keyword_case_sensitive !== undefined) {
    columns.keywordCaseSensitive = body.keyword_case_sensitive === null ? null : body.keyword_case_sensitive ? 1 : 0
  }
  if (body.custom_headers !== undefined) {
    columns.customHeaders =
      body.custom_headers && Object.keys(body.custom_headers).length > 0 ? body.custom_headers : null
  }
  if (body.latency_threshold_ms !== undefined) columns.latencyThresholdMs = body.latency_threshold_ms
  if (body.tls_expiry_warn_days !== undefined) columns.tlsExpiryWarnDays = body.tls_expiry_warn_days
  if (body.alert_cooldown_minutes !== undefined) columns.alertCooldownMinutes = body.alert_cooldown_minutes
  return columns
}

/** The `jetpack_monitor_sites` columns a request changes. */
export function siteColumnsOf(body: EndpointConfigChanges & { monitor_url?: string | undefined }): SiteColumns {
  const columns: SiteColumns = {}
  if (body.monitor_active !== undefined) columns.monitorActive = body.monitor_active ? 1 : 0
  if (body.bucket_no !== undefined) columns.bucketNo = body.bucket_no
  if (body.monitor_url !== undefined) columns.monitorUrl = body.monitor_url
  return columns
}

/** An endpoint, as the monitor's change feed names it. */
export interface EndpointRef {
  endpointId: bigint
  blogId: bigint
}

/**
 * Writes the configuration columns (if any) of these endpoints and announces the change to the
 * monitor: upserts each `jetmon_endpoint_config` row with `updated_at = now`, and inserts one
 * `endpoint_changed` audit row per endpoint at `now` (`metadata.endpoint_id` as a decimal string,
 * `metadata.monitor_active` the endpoint's flag after the change; the detail of a new endpoint is
 * `endpoint <id> created`). These rows are the endpoint's history of existing, pausing and
 * resuming that the uptime statistics count monitored time from. Call it in the transaction that
 * changed the endpoints.
 */
export async function announceEndpointChanges(
  tx: Tx,
  scope: WriteScope,
  endpoints: readonly EndpointRef[],
  what: string,
  config: ConfigColumns = {},
): Promise<void> {
  if (endpoints.length === 0) return
  await tx
    .insert(endpointConfig)
    .values(endpoints.map((endpoint) => ({ ...config, endpointId: endpoint.endpointId, updatedAt: scope.now })))
    .onDuplicateKeyUpdate({ set: { ...config, updatedAt: scope.now } })
  const flags = await tx
    .select({ endpointId: monitorSites.endpointId, monitorActive: monitorSites.monitorActive })
    .from(monitorSites)
    .where(
      inArray(
        monitorSites.endpointId,
        endpoints.map((endpoint) => endpoint.endpointId),
      ),
    )
  const activeOf = new Map(flags.map((row) => [row.endpointId, row.monitorActive !== 0]))
  await tx.insert(auditLog).values(
    endpoints.map((endpoint) => {
      const active = activeOf.get(endpoint.endpointId)
      return {
        blogId: endpoint.blogId,
        eventType: ENDPOINT_CHANGED_EVENT,
        source: scope.source,
        detail: `endpoint ${endpoint.endpointId} ${what}`,
        metadata: {
          endpoint_id: endpoint.endpointId.toString(),
          ...(active === undefined ? {} : { monitor_active: active }),
        },
        // The request's clock, like the events the statistics set these rows against.
        createdAt: scope.now,
      }
    }),
  )
}

/** Updates the legacy rows of these endpoints (no-op without columns). */
export async function updateSiteRows(tx: Tx, endpointIds: readonly bigint[], columns: SiteColumns): Promise<void> {
  if (endpointIds.length === 0 || Object.keys(columns).length === 0) return
  await tx
    .update(monitorSites)
    .set(columns)
    .where(inArray(monitorSites.endpointId, [...endpointIds]))
}

/**
 * Closes the open events of a whole site (`{ blogId }`: its endpoints' and its site-level ones) or
 * of some endpoints, with `manual_override` and `source` = the API consumer. The events are
 * locked first, so a concurrent close by the monitor waits instead of failing this request; this
 * runs before the endpoint rows are touched, the order in which the event store locks them too.
 */
export async function closeOpenEvents(
  tx: Tx,
  scope: WriteScope,
  target: { blogId: bigint } | { endpointIds: readonly bigint[] },
  note: string,
): Promise<number> {
  const where =
    'blogId' in target
      ? and(eq(events.blogId, target.blogId), isNull(events.endedAt))
      : target.endpointIds.length === 0
        ? undefined
        : and(inArray(events.endpointId, [...target.endpointIds]), isNull(events.endedAt))
  if (where === undefined) return 0
  const open = await tx.select({ id: events.id }).from(events).where(where).orderBy(asc(events.id)).for('update')
  const ctx = { db: tx, source: scope.source, clock: () => scope.now }
  for (const event of open) {
    await closeEvent({ ctx, input: { eventId: event.id, reason: 'manual_override', transitionMetadata: { note } } })
  }
  return open.length
}
