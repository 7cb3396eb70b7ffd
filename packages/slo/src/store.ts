/**
 * The objectives' verbs: create, read, list, update and deactivate, with tenancy as for sites.
 *
 * Tenancy: `tenantId` null is the operator, who sees and changes every objective and creates
 * objectives owned by no tenant. A gateway tenant sees only the objectives it owns
 * (`owner_tenant_id`; any other is not found) and creates them only on its own sites
 * (`jetmon_site_tenants`). Names are unique per owner among active objectives; deleting an
 * objective deactivates it and frees its name.
 */
import {
  type DbOrTx,
  endpointState,
  monitorSites,
  preparedPerDatabase,
  type SloAlertRuleRow,
  siteTenants,
  sloObjectives,
  sloStreaks,
  withTransaction,
} from '@jetmon/db'
import { type SiteEndpoint, type StatsScope, statsScopeOf } from '@jetmon/read-models'
import { and, asc, eq, gt, inArray, type Placeholder, type SQL, sql } from 'drizzle-orm'
import {
  InvalidInputError,
  InvalidObjectiveError,
  ObjectiveNameTakenError,
  ObjectiveNotFoundError,
  SiteNotFoundError,
} from './errors.js'
import { NO_STREAK, type ObjectiveStreak, streakOf } from './history.js'
import {
  ALERT_LOOKBACKS,
  ALERT_SEVERITIES,
  type AlertRuleFields,
  type BurnRule,
  mergedObjectiveFields,
  newObjectiveFields,
  type ObjectiveFields,
  type ObjectiveWindow,
  ruleFields,
  ruleFromFields,
  type SliKind,
} from './objectives.js'

/** What every verb needs: the database, and the clock that stamps `created_at`/`updated_at`. */
export interface SloContext {
  db: DbOrTx
  clock?: () => Date
}

/** A stored objective. `alertPolicy` null means the default policy. */
export interface Objective {
  id: bigint
  name: string
  blogId: bigint
  /** One endpoint of the site, or null for the whole site (all its endpoints). */
  endpointId: bigint | null
  sli: SliKind
  latencyThresholdMs: number | null
  /** Percent, e.g. 99.9. */
  target: number
  window: ObjectiveWindow
  alertPolicy: BurnRule[] | null
  budgetWarnPercent: number
  budgetCriticalPercent: number
  active: boolean
  /** The gateway tenant that owns it; null for the operator's objectives. */
  ownerTenantId: string | null
  createdBy: string
  createdAt: Date
  updatedAt: Date
}

/** The default and the largest page of {@link listObjectives}. */
export const DEFAULT_OBJECTIVE_PAGE = 100
export const MAX_OBJECTIVE_PAGE = 1000

type Row = typeof sloObjectives.$inferSelect

const now = (ctx: SloContext) => (ctx.clock ?? (() => new Date()))()

/** A stored policy read back; rules another tool wrote in a shape of its own are left out. */
function policyOf(stored: readonly SloAlertRuleRow[] | null): BurnRule[] | null {
  if (!Array.isArray(stored)) return null
  return stored
    .filter(
      (rule) =>
        (ALERT_LOOKBACKS as readonly string[]).includes(rule?.long) &&
        (ALERT_LOOKBACKS as readonly string[]).includes(rule?.short) &&
        (ALERT_SEVERITIES as readonly string[]).includes(rule?.severity) &&
        typeof rule.burn_rate === 'number',
    )
    .map((rule) => ruleFromFields(rule as AlertRuleFields))
}

export function objectiveOf(row: Row): Objective {
  return {
    id: row.id,
    name: row.name,
    blogId: row.blogId,
    endpointId: row.endpointId,
    sli: row.sli,
    latencyThresholdMs: row.latencyThresholdMs,
    target: Number(row.target),
    window: row.window as ObjectiveWindow,
    alertPolicy: policyOf(row.alertPolicy),
    budgetWarnPercent: Number(row.budgetWarnPercent),
    budgetCriticalPercent: Number(row.budgetCriticalPercent),
    active: Boolean(row.active),
    ownerTenantId: row.ownerTenantId,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

/** An objective's fields in wire form, from the objective (the base an update merges onto). */
export function objectiveFields(objective: Objective): ObjectiveFields {
  return {
    name: objective.name,
    blog_id: objective.blogId,
    endpoint_id: objective.endpointId,
    sli: objective.sli,
    latency_threshold_ms: objective.latencyThresholdMs,
    target: objective.target,
    window: objective.window,
    alert_policy: objective.alertPolicy?.map(ruleFields) ?? null,
    budget_warn_percent: objective.budgetWarnPercent,
    budget_critical_percent: objective.budgetCriticalPercent,
    active: objective.active,
  }
}

function columnsOf(fields: ObjectiveFields) {
  return {
    name: fields.name,
    blogId: fields.blog_id,
    endpointId: fields.endpoint_id,
    sli: fields.sli,
    latencyThresholdMs: fields.latency_threshold_ms,
    target: fields.target,
    window: fields.window,
    alertPolicy: fields.alert_policy,
    budgetWarnPercent: fields.budget_warn_percent,
    budgetCriticalPercent: fields.budget_critical_percent,
    active: fields.active,
  }
}

/** The rows a caller may see: the tenant's own (its id, or a placeholder for it), or every row for the operator. */
function ownedBy(tenantId: string | Placeholder | null): SQL | undefined {
  // `owner_key` leads the name index, so a tenant's objectives are a range of it.
  return tenantId === null
    ? undefined
    : and(eq(sloObjectives.ownerKey, tenantId), eq(sloObjectives.ownerTenantId, tenantId))
}

function isDuplicateKey(error: unknown): boolean {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if ((current as { code?: unknown }).code === 'ER_DUP_ENTRY') return true
  }
  return false
}

/**
 * The site (and endpoint) an objective names must exist and, for a tenant, be one of its sites.
 * @throws {SiteNotFoundError} when the site has no endpoint the caller may see.
 * @throws {InvalidObjectiveError} (path `endpoint_id`) when the endpoint is not one of the site's.
 */
export async function checkScope(db: DbOrTx, tenantId: string | null, fields: ObjectiveFields): Promise<void> {
  const base = db.select({ endpointId: monitorSites.endpointId }).from(monitorSites)
  const [site] = await (tenantId === null
    ? base.where(eq(monitorSites.blogId, fields.blog_id))
    : base
        .innerJoin(siteTenants, eq(siteTenants.blogId, monitorSites.blogId))
        .where(and(eq(monitorSites.blogId, fields.blog_id), eq(siteTenants.tenantId, tenantId)))
  ).limit(1)
  if (site === undefined) throw new SiteNotFoundError(fields.blog_id)
  if (fields.endpoint_id === null) return
  const [endpoint] = await db
    .select({ endpointId: monitorSites.endpointId })
    .from(monitorSites)
    .where(and(eq(monitorSites.endpointId, fields.endpoint_id), eq(monitorSites.blogId, fields.blog_id)))
    .limit(1)
  if (endpoint === undefined) {
    throw new InvalidObjectiveError([
      { path: 'endpoint_id', message: `endpoint ${fields.endpoint_id} is not an endpoint of site ${fields.blog_id}` },
    ])
  }
}

async function findRow(db: DbOrTx, tenantId: string | null, id: bigint, forUpdate = false): Promise<Row> {
  const query = db
    .select()
    .from(sloObjectives)
    .where(and(eq(sloObjectives.id, id), ownedBy(tenantId)))
    .limit(1)
  const [row] = forUpdate ? await query.for('update') : await query
  if (row === undefined) throw new ObjectiveNotFoundError(id)
  return row
}

function checkId(id: bigint): void {
  if (typeof id !== 'bigint' || id < 1n)
    throw new InvalidInputError('id', `must be a positive bigint, got ${String(id)}`)
}

/**
 * Creates an objective from its fields in wire form (`name`, `blog_id`, `sli`, `target`, `window`
 * required; `endpoint_id`, `latency_threshold_ms`, `alert_policy`, `budget_warn_percent`,
 * `budget_critical_percent`, `active` optional), owned by `tenantId`.
 * @throws {InvalidObjectiveError} with the path of each problem.
 * @throws {SiteNotFoundError} when the site has no endpoint the caller may see.
 * @throws {ObjectiveNameTakenError} when the owner has an active objective of that name.
 */
export async function createObjective({
  ctx,
  tenantId,
  createdBy,
  fields,
}: {
  ctx: SloContext
  tenantId: string | null
  /** Who creates it, e.g. the API key's consumer name. */
  createdBy: string
  fields: unknown
}): Promise<Objective> {
  const parsed = newObjectiveFields(fields)
  await checkScope(ctx.db, tenantId, parsed)
  const at = now(ctx)
  let id: bigint
  try {
    const [inserted] = await ctx.db
      .insert(sloObjectives)
      .values({ ...columnsOf(parsed), ownerTenantId: tenantId, createdBy, createdAt: at, updatedAt: at })
      .$returningId()
    id = BigInt(inserted!.id)
  } catch (error) {
    if (isDuplicateKey(error)) throw new ObjectiveNameTakenError(parsed.name, { cause: error })
    throw error
  }
  return objectiveOf(await findRow(ctx.db, tenantId, id))
}

/** Which objective a reader looks up, and for whom. */
export interface ObjectiveLookup {
  ctx: SloContext
  tenantId: string | null
  id: bigint
}

/**
 * One objective, active or not.
 * @throws {ObjectiveNotFoundError} when absent or owned by another tenant.
 */
export async function getObjective({ ctx, tenantId, id }: ObjectiveLookup): Promise<Objective> {
  checkId(id)
  return objectiveOf(await findRow(ctx.db, tenantId, id))
}

/** {@link getObjectiveWithStreak}'s answer. */
export interface ObjectiveWithStreak {
  objective: Objective
  /** Zero for an objective without a streak row yet. */
  streak: ObjectiveStreak
  /**
   * The objective's scope (its site's endpoints, their flags and last checks, as `loadStatsScopes`
   * of @jetmon/read-models gives it; null when its endpoint is no longer one of the site's): pass it
   * to `objectiveStatuses` so that the status does not read it again.
   */
  scope: StatsScope | null
}

/**
 * {@link getObjective} with its streak and its scope, in one statement (one row per endpoint of
 * the site). The statement is built once per database handle and reused with new parameters.
 * @throws {ObjectiveNotFoundError} when absent or another tenant's.
 */
export async function getObjectiveWithStreak({ ctx, tenantId, id }: ObjectiveLookup): Promise<ObjectiveWithStreak> {
  checkId(id)
  const rows =
    tenantId === null
      ? await statusReadsOf(ctx.db).operator.execute({ id })
      : await statusReadsOf(ctx.db).tenant.execute({ id, tenant: tenantId })
  const first = rows[0]
  if (first === undefined) throw new ObjectiveNotFoundError(id)
  const objective = objectiveOf(first.objective)
  const endpoints: SiteEndpoint[] = []
  for (const row of rows) {
    if (row.endpointId === null) continue
    endpoints.push({
      endpointId: row.endpointId,
      monitorActive: row.monitorActive !== 0,
      lastCheckedAt: row.lastCheckedAt?.getTime() ?? null,
    })
  }
  return {
    objective,
    streak: first.streak === null ? NO_STREAK : streakOf(first.streak),
    scope: statsScopeOf({ blogId: objective.blogId, endpointId: objective.endpointId, endpoints }),
  }
}

/** The objective with its streak and its site's endpoints, as a statement with placeholders. */
function statusRead(db: DbOrTx, tenant: boolean) {
  return db
    .select({
      objective: sloObjectives,
      streak: sloStreaks,
      endpointId: monitorSites.endpointId,
      monitorActive: monitorSites.monitorActive,
      lastCheckedAt: endpointState.lastCheckedAt,
    })
    .from(sloObjectives)
    .leftJoin(sloStreaks, eq(sloStreaks.objectiveId, sloObjectives.id))
    .leftJoin(monitorSites, eq(monitorSites.blogId, sloObjectives.blogId))
    .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
    .where(
      tenant
        ? and(
            eq(sloObjectives.id, sql.placeholder('id')),
            eq(sloObjectives.ownerKey, sql.placeholder('tenant')),
            eq(sloObjectives.ownerTenantId, sql.placeholder('tenant')),
          )
        : eq(sloObjectives.id, sql.placeholder('id')),
    )
    .orderBy(asc(monitorSites.endpointId))
    .prepare()
}

const statusReads = new WeakMap<
  DbOrTx,
  { operator: ReturnType<typeof statusRead>; tenant: ReturnType<typeof statusRead> }
>()

/** The prepared {@link statusRead}s of a database handle (built on its first use). */
function statusReadsOf(db: DbOrTx) {
  let reads = statusReads.get(db)
  if (reads === undefined) {
    reads = { operator: statusRead(db, false), tenant: statusRead(db, true) }
    statusReads.set(db, reads)
  }
  return reads
}

/**
 * The active objectives among `ids` that the caller may see, in id order, in one query per thousand
 * ids (an id that is absent, inactive or another tenant's is left out).
 */
export async function getActiveObjectives({
  ctx,
  tenantId,
  ids,
}: {
  ctx: SloContext
  tenantId: string | null
  ids: readonly bigint[]
}): Promise<Objective[]> {
  const unique = [...new Set(ids)]
  const out: Objective[] = []
  for (let i = 0; i < unique.length; i += 1000) {
    const rows = await ctx.db
      .select()
      .from(sloObjectives)
      .where(
        and(ownedBy(tenantId), eq(sloObjectives.active, true), inArray(sloObjectives.id, unique.slice(i, i + 1000))),
      )
    out.push(...rows.map(objectiveOf))
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export interface ObjectivePage {
  objectives: Objective[]
  /** Pass as `after` for the next page; null on the last page. */
  nextAfter: bigint | null
}

/**
 * A page of the objectives the caller may see, in id order (keyset pagination: `after` is the last
 * id of the previous page), optionally only a site's, one SLI's, or only active (or inactive) ones.
 * @throws {InvalidInputError} for a page size outside 1–{@link MAX_OBJECTIVE_PAGE}.
 */
export async function listObjectives({
  ctx,
  tenantId,
  blogId,
  sli,
  active,
  after = null,
  limit = DEFAULT_OBJECTIVE_PAGE,
}: {
  ctx: SloContext
  tenantId: string | null
  blogId?: bigint
  sli?: SliKind
  active?: boolean
  after?: bigint | null
  limit?: number
}): Promise<ObjectivePage> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_OBJECTIVE_PAGE) {
    throw new InvalidInputError('limit', `must be a whole number from 1 to ${MAX_OBJECTIVE_PAGE}, got ${limit}`)
  }
  const shape = [tenantId !== null, blogId !== undefined, sli !== undefined, active ?? null, after !== null].join(':')
  const rows = await objectivePage(ctx.db, shape).execute({ tenantId, blogId, sli, active, after, limit: limit + 1 })
  const page = rows.slice(0, limit)
  return {
    objectives: page.map(objectiveOf),
    nextAfter: rows.length > limit ? page[page.length - 1]!.id : null,
  }
}

/** The list's query for a shape (which filters are given; `active` as its value), built once and then bound. */
const objectivePage = preparedPerDatabase((db: DbOrTx, shape: string) => {
  const [tenant, blog, sli, active, after] = shape.split(':')
  const p = sql.placeholder
  return db
    .select()
    .from(sloObjectives)
    .where(
      and(
        tenant === 'true' ? ownedBy(p('tenantId')) : undefined,
        blog === 'true' ? eq(sloObjectives.blogId, p('blogId')) : undefined,
        sli === 'true' ? eq(sloObjectives.sli, p('sli')) : undefined,
        active === '' ? undefined : eq(sloObjectives.active, active === 'true'),
        after === 'true' ? gt(sloObjectives.id, p('after')) : undefined,
      ),
    )
    .orderBy(asc(sloObjectives.id))
    .limit(p('limit'))
    .prepare()
})

/**
 * Changes the given fields of an objective (wire form, each optional; null clears
 * `endpoint_id`, `latency_threshold_ms` or `alert_policy`); the rules between fields are checked on
 * the result. `active: true` reactivates a deactivated objective if its name is free.
 * @throws {InvalidObjectiveError} with the path of each problem.
 * @throws {ObjectiveNotFoundError} when absent or owned by another tenant.
 * @throws {SiteNotFoundError} when a new site has no endpoint the caller may see.
 * @throws {ObjectiveNameTakenError} when the new name (or the reactivated one) is taken.
 */
export async function updateObjective({
  ctx,
  tenantId,
  id,
  changes,
}: {
  ctx: SloContext
  tenantId: string | null
  id: bigint
  changes: unknown
}): Promise<Objective> {
  checkId(id)
  return withTransaction(ctx.db, async (tx) => {
    const current = objectiveOf(await findRow(tx, tenantId, id, true))
    const merged = mergedObjectiveFields(objectiveFields(current), changes)
    if (merged.blog_id !== current.blogId || merged.endpoint_id !== current.endpointId) {
      await checkScope(tx, tenantId, merged)
    }
    try {
      await tx
        .update(sloObjectives)
        .set({ ...columnsOf(merged), updatedAt: now(ctx) })
        .where(eq(sloObjectives.id, id))
    } catch (error) {
      if (isDuplicateKey(error)) throw new ObjectiveNameTakenError(merged.name, { cause: error })
      throw error
    }
    return objectiveOf(await findRow(tx, tenantId, id))
  })
}

/**
 * Deactivates an objective (what deleting it does): it is no longer evaluated and its name is
 * free again; its snapshots and streak stay. Deactivating an inactive objective changes nothing.
 * @throws {ObjectiveNotFoundError} when absent or owned by another tenant.
 */
export async function deactivateObjective({
  ctx,
  tenantId,
  id,
}: {
  ctx: SloContext
  tenantId: string | null
  id: bigint
}): Promise<Objective> {
  checkId(id)
  const row = await findRow(ctx.db, tenantId, id)
  if (row.active) {
    await ctx.db
      .update(sloObjectives)
      .set({ active: false, updatedAt: now(ctx) })
      .where(and(eq(sloObjectives.id, id), eq(sloObjectives.active, true)))
  }
  return objectiveOf(await findRow(ctx.db, tenantId, id))
}

/**
 * Deactivates every active objective of a site, whoever owns it (deleting a site does this).
 * Returns how many were deactivated.
 */
export async function deactivateObjectivesOfSite({
  ctx,
  blogId,
}: {
  ctx: SloContext
  blogId: bigint
}): Promise<number> {
  const result = await ctx.db
    .update(sloObjectives)
    .set({ active: false, updatedAt: now(ctx) })
    .where(and(eq(sloObjectives.blogId, blogId), eq(sloObjectives.active, true)))
  const header = Array.isArray(result) ? result[0] : result
  return Number((header as { affectedRows?: number } | undefined)?.affectedRows ?? 0)
}
