/**
 * Sites, endpoints and maintenance windows (docs/api.md). Writes are one transaction per
 * request and announce every endpoint change to the monitor (see `_sites-writes.ts`); reads derive
 * site and endpoint state as docs/events.md describes ("Site state").
 */
import type { EndpointConfigChanges, SiteDetail, SiteEndpoint, sitesRoutes } from '@jetmon/api-client'
import { type DbOrTx, events, maintenanceWindows, monitorSites, siteTenants, type Tx } from '@jetmon/db'
import {
  type CheckPolicyDefaults,
  currentWindows,
  DEFAULT_CHECK_POLICY,
  type EndpointRow,
  endpointToJson,
  listSitePage,
  loadSiteDetail,
  openEventsOfEndpoints,
  policyCondition,
  selectEndpoints,
  siteVisible,
  tenantCondition,
  windowToJson,
} from '@jetmon/read-models'
import { bucketForEndpoint, DEFAULT_BUCKET_TOTAL } from '@jetmon/scheduler'
import { deactivateObjectivesOfSite } from '@jetmon/slo'
import { and, desc, eq, gt, lt, ne, or, type SQL } from 'drizzle-orm'
import type { ApiDeps, EndpointProbe, Handlers, ProbeResult } from '../context.js'
import { Reply } from '../context.js'
import { ApiError, invalidRequest, notFound } from '../errors.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'
import { applyMaintenancePlan, checkWindow, maintenancePlanOf } from './_sites-maintenance.js'
import {
  announceEndpointChanges,
  closeOpenEvents,
  configColumnsOf,
  type EndpointRef,
  inTransaction,
  siteColumnsOf,
  updateSiteRows,
  type WriteScope,
} from './_sites-writes.js'

/** The fleet's `BUCKET_TOTAL` when the process passes it as `deps.bucketTotal` (`jetmon2 serve` does), else null. */
function fleetBucketTotal(deps: ApiDeps): number | null {
  const total = deps.bucketTotal
  return typeof total === 'number' && Number.isSafeInteger(total) && total >= 1 && total <= 65_536 ? total : null
}

/**
 * An explicit `bucket_no` must lie inside the fleet's bucket space (`0 … BUCKET_TOTAL − 1`) when the
 * process knows it; otherwise the contract's SMALLINT UNSIGNED bound (0 … 65535) is all we check.
 */
function checkBucketNo(bucketNo: number | undefined, deps: ApiDeps): void {
  const total = fleetBucketTotal(deps)
  if (bucketNo === undefined || total === null || bucketNo < total) return
  throw invalidRequest([
    { path: 'bucket_no', message: `must be below BUCKET_TOTAL (${total}): buckets are numbered 0 to ${total - 1}` },
  ])
}

/** The fleet's default request method and detection profile, as the process configures them. */
function checkPolicyDefaults(deps: ApiDeps): CheckPolicyDefaults {
  return { ...DEFAULT_CHECK_POLICY, ...withoutUndefined(deps.checkPolicyDefaults ?? {}) }
}

function probeUnavailable(): ApiError {
  return new ApiError(
    503,
    'probe_unavailable',
    'trigger-now needs a checker and this API process has none; use an API served by `jetmon2 serve` with the monitor running',
  )
}

/** Checks trigger-now runs at once in one process when `ApiDeps.triggerNowConcurrency` is not set. */
export const DEFAULT_TRIGGER_NOW_CONCURRENCY = 16

/** Checks trigger-now is running, per probe (one per process): a cap for every caller together. */
const triggerNowInFlight = new WeakMap<EndpointProbe, { checks: number }>()

/**
 * Runs trigger-now's checks under the process-wide cap: a request whose checks do not fit next to
 * those already running answers 429 `trigger_now_busy` instead of queueing (a caller cannot pile
 * up outbound checks). A site with more endpoints than the cap takes the whole cap.
 */
async function probeUnderCap(
  deps: ApiDeps,
  probe: EndpointProbe,
  endpoints: readonly { endpointId: bigint; blogId: bigint }[],
  source: string,
): Promise<ProbeResult[]> {
  const cap = deps.triggerNowConcurrency ?? DEFAULT_TRIGGER_NOW_CONCURRENCY
  let running = triggerNowInFlight.get(probe)
  if (!running) {
    running = { checks: 0 }
    triggerNowInFlight.set(probe, running)
  }
  const needed = Math.min(endpoints.length, cap)
  if (running.checks + needed > cap) {
    throw new ApiError(
      429,
      'trigger_now_busy',
      `trigger-now is already running ${running.checks} of at most ${cap} checks at once on this server; retry in a few seconds`,
      { headers: { 'retry-after': '2' } },
    )
  }
  running.checks += needed
  try {
    return await probe.probe(endpoints, source)
  } finally {
    running.checks -= needed
  }
}

async function requireSite(db: DbOrTx, blogId: bigint, tenantId: string | null): Promise<void> {
  if (!(await siteVisible({ ctx: { db }, blogId, tenantId }))) throw notFound('site', blogId)
}

async function requireEndpoint(db: DbOrTx, endpointId: bigint, tenantId: string | null): Promise<EndpointRow> {
  const [row] = await selectEndpoints({
    ctx: { db },
    where: and(eq(monitorSites.endpointId, endpointId), tenantCondition(tenantId, monitorSites.blogId)),
  })
  if (!row) throw notFound('endpoint', endpointId)
  return row
}

async function requireSiteDetail(db: DbOrTx, deps: ApiDeps, blogId: bigint, now: Date): Promise<SiteDetail> {
  const detail = await loadSiteDetail({ ctx: { db }, blogId, now, policy: checkPolicyDefaults(deps) })
  if (!detail) throw notFound('site', blogId)
  return detail
}

/** Endpoints (with configuration, runtime state and derived state) in wire form; two more queries. */
async function endpointsToJson(
  db: DbOrTx,
  deps: ApiDeps,
  rows: readonly EndpointRow[],
  now: Date,
): Promise<SiteEndpoint[]> {
  const [openEvents, windows] = await Promise.all([
    openEventsOfEndpoints(
      db,
      rows.map((row) => row.endpointId),
    ),
    currentWindows({ ctx: { db }, blogIds: [...new Set(rows.map((row) => row.blogId))], now }),
  ])
  const policy = checkPolicyDefaults(deps)
  return rows.map((row) => endpointToJson(row, { openEvents, windows }, policy))
}

async function endpointJson(db: DbOrTx, deps: ApiDeps, endpointId: bigint, now: Date): Promise<SiteEndpoint> {
  const [row] = await selectEndpoints({ ctx: { db }, where: eq(monitorSites.endpointId, endpointId) })
  if (!row) throw notFound('endpoint', endpointId)
  const [json] = await endpointsToJson(db, deps, [row], now)
  return json!
}

/** Every endpoint of the blog, locked for this transaction (and the blog's key range with them). */
function lockSiteEndpoints(tx: Tx, blogId: bigint) {
  return tx
    .select({
      endpointId: monitorSites.endpointId,
      blogId: monitorSites.blogId,
      monitorUrl: monitorSites.monitorUrl,
      monitorActive: monitorSites.monitorActive,
    })
    .from(monitorSites)
    .where(eq(monitorSites.blogId, blogId))
    .for('update')
}

/** Every configuration column, absent ones as NULL: an endpoint (re)created starts from the defaults. */
function fullConfigColumns(body: EndpointConfigChanges) {
  return configColumnsOf({
    check_interval_sec: null,
    timeout_ms: null,
    request_method: null,
    detection_profile: null,
    redirect_policy: null,
    max_redirects: null,
    check_keyword: null,
    forbidden_keywords: null,
    keyword_case_sensitive: null,
    custom_headers: null,
    latency_threshold_ms: null,
    tls_expiry_warn_days: null,
    alert_cooldown_minutes: null,
    ...withoutUndefined(body),
  })
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * Adds the URL to the blog, in the caller's transaction. A URL the blog already has (same bytes)
 * is a conflict while that endpoint is active; an inactive one (paused or deleted) is brought back
 * with the request's configuration instead of adding a twin.
 */
async function addEndpoint(
  tx: Tx,
  scope: WriteScope,
  deps: ApiDeps,
  blogId: bigint,
  body: EndpointConfigChanges & { monitor_url: string },
  conflict: 'site_exists' | 'endpoint_exists',
): Promise<bigint> {
  const existing = await lockSiteEndpoints(tx, blogId)
  const same = existing.find((row) => row.monitorUrl === body.monitor_url)
  if (same && same.monitorActive !== 0) {
    throw new ApiError(
      409,
      conflict,
      `blog ${blogId} already monitors ${body.monitor_url} (endpoint ${same.endpointId}); change it with PATCH /endpoints/${same.endpointId}`,
    )
  }
  const monitorActive = body.monitor_active === false ? 0 : 1
  let endpointId: bigint
  if (same) {
    endpointId = same.endpointId
    await updateSiteRows(tx, [endpointId], { ...siteColumnsOf(body), monitorActive })
  } else {
    const [inserted] = await tx
      .insert(monitorSites)
      .values({ blogId, monitorUrl: body.monitor_url, monitorActive, bucketNo: body.bucket_no ?? 0 })
      .$returningId()
    endpointId = BigInt(inserted!.endpointId)
    if (body.bucket_no === undefined) {
      // The bucket the monitor would give it (docs/operations.md): a hash of the id.
      const total = fleetBucketTotal(deps) ?? DEFAULT_BUCKET_TOTAL
      await updateSiteRows(tx, [endpointId], { bucketNo: bucketForEndpoint(endpointId, total) })
    }
  }
  await announceEndpointChanges(
    tx,
    scope,
    [{ endpointId, blogId }],
    same ? 'monitored again' : 'created',
    fullConfigColumns(body),
  )
  return endpointId
}

/**
 * In a gateway tenant context, a site can be created on the tenant's own blog, or on a blog nobody
 * monitors yet (no endpoint row, no event history, no tenant), which then becomes the tenant's. Any
 * other blog is 404 `site_not_found`, as every other tenant's row is. The blog's mapping and
 * endpoint rows are read with locks (gap locks when there are none), so of two tenants racing for
 * the same new blog one is made the deadlock victim, runs again, and then finds the blog taken.
 */
async function claimBlogForTenant(tx: Tx, tenantId: string, blogId: bigint): Promise<void> {
  const owners = await tx
    .select({ tenantId: siteTenants.tenantId })
    .from(siteTenants)
    .where(eq(siteTenants.blogId, blogId))
    .for('update')
  if (owners.some((owner) => owner.tenantId === tenantId)) return
  if (owners.length > 0) throw notFound('site', blogId)
  const endpoints = await lockSiteEndpoints(tx, blogId)
  const [history] = await tx.select({ id: events.id }).from(events).where(eq(events.blogId, blogId)).limit(1)
  if (endpoints.length > 0 || history !== undefined) throw notFound('site', blogId)
  await tx.insert(siteTenants).values({ tenantId, blogId, source: 'gateway' })
}

/** Pauses (closing open events with manual_override) or resumes endpoints, and announces it. */
async function setActive(
  tx: Tx,
  scope: WriteScope,
  target: { blogId: bigint } | { endpoint: EndpointRef },
  active: boolean,
  what: string,
): Promise<void> {
  if (!active) {
    await closeOpenEvents(tx, scope, 'blogId' in target ? target : { endpointIds: [target.endpoint.endpointId] }, what)
  }
  const endpoints = 'blogId' in target ? await lockSiteEndpoints(tx, target.blogId) : [target.endpoint]
  await updateSiteRows(
    tx,
    endpoints.map((endpoint) => endpoint.endpointId),
    { monitorActive: active ? 1 : 0 },
  )
  await announceEndpointChanges(tx, scope, endpoints, what)
}

export const sitesHandlers: Handlers<typeof sitesRoutes> = {
  async 'sites.list'({ deps, query, tenantId, now }) {
    if (query.state !== undefined && query.state__in !== undefined) {
      throw invalidRequest([{ path: 'query.state__in', message: 'cannot be combined with state; give one of them' }])
    }
    const limit = query.limit ?? DEFAULT_LIMIT
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, ['id'])[0]
    const states = query.state !== undefined ? [query.state] : query.state__in
    const rows = await listSitePage({
      ctx: { db: deps.db },
      now,
      tenantId,
      after,
      limit,
      states: states === undefined ? null : new Set(states),
      minSeverity: query.severity__gte ?? null,
      monitorActive: query.monitor_active ?? null,
      q: query.q ?? null,
      policy: { requestMethod: query.request_method, detectionProfile: query.detection_profile },
      policyDefaults: checkPolicyDefaults(deps),
    })
    return pageOf(
      rows,
      limit,
      (row) => row.item,
      (row) => [row.blogId.toString()],
    )
  },

  async 'sites.create'({ deps, body, tenantId, now, source }) {
    checkBucketNo(body.bucket_no, deps)
    const scope = { source, now }
    const detail = await inTransaction(deps.db, async (tx) => {
      if (tenantId !== null) await claimBlogForTenant(tx, tenantId, body.blog_id)
      await addEndpoint(tx, scope, deps, body.blog_id, body, 'site_exists')
      return requireSiteDetail(tx, deps, body.blog_id, now)
    })
    return new Reply(detail, 201)
  },

  async 'sites.get'({ deps, params, tenantId, now }) {
    // Without a tenant, the detail's own query answers whether the site exists.
    if (tenantId !== null) await requireSite(deps.db, params.blog_id, tenantId)
    return requireSiteDetail(deps.db, deps, params.blog_id, now)
  },

  async 'sites.update'({ deps, params, body, tenantId, now, source, principal }) {
    const blogId = params.blog_id
    const plan = maintenancePlanOf(body, now)
    checkBucketNo(body.bucket_no, deps)
    const scope = { source, now }
    const config = configColumnsOf(body)
    const site = siteColumnsOf(body)
    return inTransaction(deps.db, async (tx) => {
      await requireSite(tx, blogId, tenantId)
      if (Object.keys(config).length + Object.keys(site).length > 0) {
        if (body.monitor_active === false) {
          await closeOpenEvents(tx, scope, { blogId }, 'site paused via API (PATCH monitor_active: false)')
        }
        const endpoints = await lockSiteEndpoints(tx, blogId)
        await updateSiteRows(
          tx,
          endpoints.map((endpoint) => endpoint.endpointId),
          site,
        )
        await announceEndpointChanges(tx, scope, endpoints, 'updated (site PATCH)', config)
      }
      await applyMaintenancePlan(tx, plan, { blogId, now, createdBy: principal.consumer })
      return requireSiteDetail(tx, deps, blogId, now)
    })
  },

  async 'sites.delete'({ deps, params, tenantId, now, source }) {
    await inTransaction(deps.db, async (tx) => {
      await requireSite(tx, params.blog_id, tenantId)
      await setActive(tx, { source, now }, { blogId: params.blog_id }, false, 'site deleted via API')
      await deactivateObjectivesOfSite({ ctx: { db: tx, clock: () => now }, blogId: params.blog_id })
    })
    return undefined
  },

  async 'sites.pause'({ deps, params, tenantId, now, source }) {
    return inTransaction(deps.db, async (tx) => {
      await requireSite(tx, params.blog_id, tenantId)
      await setActive(tx, { source, now }, { blogId: params.blog_id }, false, 'site paused via API')
      return requireSiteDetail(tx, deps, params.blog_id, now)
    })
  },

  async 'sites.resume'({ deps, params, tenantId, now, source }) {
    return inTransaction(deps.db, async (tx) => {
      await requireSite(tx, params.blog_id, tenantId)
      await setActive(tx, { source, now }, { blogId: params.blog_id }, true, 'site resumed via API')
      return requireSiteDetail(tx, deps, params.blog_id, now)
    })
  },

  async 'sites.triggerNow'({ deps, params, tenantId, source }) {
    const probe = deps.probe
    if (!probe) throw probeUnavailable()
    await requireSite(deps.db, params.blog_id, tenantId)
    const active = await deps.db
      .select({ endpointId: monitorSites.endpointId, blogId: monitorSites.blogId })
      .from(monitorSites)
      .where(and(eq(monitorSites.blogId, params.blog_id), ne(monitorSites.monitorActive, 0)))
      .orderBy(monitorSites.endpointId)
    if (active.length === 0) {
      throw new ApiError(
        409,
        'site_paused',
        `every endpoint of site ${params.blog_id} is paused; resume it (POST /sites/${params.blog_id}/resume) to check it`,
      )
    }
    return { results: await probeUnderCap(deps, probe, active, source) }
  },

  async 'sites.endpoints.list'({ deps, params, query, tenantId, now }) {
    await requireSite(deps.db, params.blog_id, tenantId)
    const limit = query.limit ?? DEFAULT_LIMIT
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor, ['id'])[0]
    const rows = await selectEndpoints({
      ctx: { db: deps.db },
      where: and(
        eq(monitorSites.blogId, params.blog_id),
        after === null ? undefined : gt(monitorSites.endpointId, after),
        policyCondition(
          { requestMethod: query.request_method, detectionProfile: query.detection_profile },
          checkPolicyDefaults(deps),
        ),
      ),
      limit: limit + 1,
    })
    const served = rows.slice(0, limit)
    const items = await endpointsToJson(deps.db, deps, served, now)
    const byId = new Map(served.map((row, index) => [row.endpointId, items[index]!]))
    return pageOf(
      rows,
      limit,
      (row) => byId.get(row.endpointId)!,
      (row) => [row.endpointId.toString()],
    )
  },

  async 'sites.endpoints.create'({ deps, params, body, tenantId, now, source }) {
    checkBucketNo(body.bucket_no, deps)
    const endpoint = await inTransaction(deps.db, async (tx) => {
      await requireSite(tx, params.blog_id, tenantId)
      const endpointId = await addEndpoint(tx, { source, now }, deps, params.blog_id, body, 'endpoint_exists')
      return endpointJson(tx, deps, endpointId, now)
    })
    return new Reply(endpoint, 201)
  },

  async 'endpoints.get'({ deps, params, tenantId, now }) {
    const row = await requireEndpoint(deps.db, params.endpoint_id, tenantId)
    const [json] = await endpointsToJson(deps.db, deps, [row], now)
    return json!
  },

  async 'endpoints.update'({ deps, params, body, tenantId, now, source }) {
    checkBucketNo(body.bucket_no, deps)
    const scope = { source, now }
    return inTransaction(deps.db, async (tx) => {
      const current = await requireEndpoint(tx, params.endpoint_id, tenantId)
      const ref = { endpointId: current.endpointId, blogId: current.blogId }
      const config = configColumnsOf(body)
      const site = siteColumnsOf(body)
      if (Object.keys(config).length + Object.keys(site).length === 0)
        return endpointJson(tx, deps, ref.endpointId, now)
      if (body.monitor_active === false) {
        await closeOpenEvents(
          tx,
          scope,
          { endpointIds: [ref.endpointId] },
          'endpoint paused via API (PATCH monitor_active: false)',
        )
      }
      const siblings = await lockSiteEndpoints(tx, ref.blogId)
      if (body.monitor_url !== undefined) {
        const twin = siblings.find((row) => row.endpointId !== ref.endpointId && row.monitorUrl === body.monitor_url)
        if (twin) {
          throw new ApiError(
            409,
            'endpoint_exists',
            `blog ${ref.blogId} already has ${body.monitor_url} as endpoint ${twin.endpointId}`,
          )
        }
      }
      await updateSiteRows(tx, [ref.endpointId], site)
      await announceEndpointChanges(tx, scope, [ref], 'updated', config)
      return endpointJson(tx, deps, ref.endpointId, now)
    })
  },

  async 'endpoints.delete'({ deps, params, tenantId, now, source }) {
    await inTransaction(deps.db, async (tx) => {
      const row = await requireEndpoint(tx, params.endpoint_id, tenantId)
      await setActive(tx, { source, now }, { endpoint: row }, false, 'endpoint deleted via API')
    })
    return undefined
  },

  async 'endpoints.pause'({ deps, params, tenantId, now, source }) {
    return inTransaction(deps.db, async (tx) => {
      const row = await requireEndpoint(tx, params.endpoint_id, tenantId)
      await setActive(tx, { source, now }, { endpoint: row }, false, 'endpoint paused via API')
      return endpointJson(tx, deps, row.endpointId, now)
    })
  },

  async 'endpoints.resume'({ deps, params, tenantId, now, source }) {
    return inTransaction(deps.db, async (tx) => {
      const row = await requireEndpoint(tx, params.endpoint_id, tenantId)
      await setActive(tx, { source, now }, { endpoint: row }, true, 'endpoint resumed via API')
      return endpointJson(tx, deps, row.endpointId, now)
    })
  },

  async 'endpoints.triggerNow'({ deps, params, tenantId, source }) {
    const probe = deps.probe
    if (!probe) throw probeUnavailable()
    const row = await requireEndpoint(deps.db, params.endpoint_id, tenantId)
    if (row.monitorActive === 0) {
      throw new ApiError(
        409,
        'endpoint_paused',
        `endpoint ${row.endpointId} is paused; resume it (POST /endpoints/${row.endpointId}/resume) to check it`,
      )
    }
    return {
      results: await probeUnderCap(deps, probe, [{ endpointId: row.endpointId, blogId: row.blogId }], source),
    }
  },

  async 'maintenance.list'({ deps, params, query, tenantId, now }) {
    await requireSite(deps.db, params.blog_id, tenantId)
    const limit = query.limit ?? DEFAULT_LIMIT
    let after: SQL | undefined
    if (query.cursor !== undefined) {
      const [startsAt, id] = decodeCursor(query.cursor, ['ms', 'id'])
      after = or(
        lt(maintenanceWindows.startsAt, startsAt),
        and(eq(maintenanceWindows.startsAt, startsAt), lt(maintenanceWindows.id, id)),
      )
    }
    const rows = await deps.db
      .select()
      .from(maintenanceWindows)
      .where(and(eq(maintenanceWindows.blogId, params.blog_id), after))
      .orderBy(desc(maintenanceWindows.startsAt), desc(maintenanceWindows.id))
      .limit(limit + 1)
    return pageOf(
      rows,
      limit,
      (row) => windowToJson(row, now),
      (row) => [row.startsAt.getTime(), row.id.toString()],
    )
  },

  async 'maintenance.create'({ deps, params, body, tenantId, now, principal }) {
    const blogId = params.blog_id
    const window = await inTransaction(deps.db, async (tx) => {
      await requireSite(tx, blogId, tenantId)
      const endpointId = body.endpoint_id ?? null
      if (endpointId !== null) {
        const [endpoint] = await tx
          .select({ endpointId: monitorSites.endpointId })
          .from(monitorSites)
          .where(and(eq(monitorSites.endpointId, endpointId), eq(monitorSites.blogId, blogId)))
        if (!endpoint) throw notFound('endpoint', endpointId)
      }
      checkWindow(body.starts_at, body.ends_at, now, { start: 'starts_at', end: 'ends_at' })
      const values = {
        blogId,
        endpointId,
        startsAt: body.starts_at,
        endsAt: body.ends_at,
        reason: body.reason ? body.reason : null,
        createdBy: principal.consumer,
      }
      const [inserted] = await tx.insert(maintenanceWindows).values(values).$returningId()
      const [row] = await tx
        .select()
        .from(maintenanceWindows)
        .where(eq(maintenanceWindows.id, BigInt(inserted!.id)))
      return row!
    })
    return new Reply(windowToJson(window, now), 201)
  },

  async 'maintenance.delete'({ deps, params, tenantId }) {
    await inTransaction(deps.db, async (tx) => {
      const [window] = await tx
        .select({ id: maintenanceWindows.id })
        .from(maintenanceWindows)
        .where(and(eq(maintenanceWindows.id, params.id), tenantCondition(tenantId, maintenanceWindows.blogId)))
        .for('update')
      if (!window) throw notFound('maintenance_window', params.id)
      await tx.delete(maintenanceWindows).where(eq(maintenanceWindows.id, window.id))
    })
    return undefined
  },
}
