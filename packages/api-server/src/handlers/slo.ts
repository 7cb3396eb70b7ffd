/**
 * Service level objectives: CRUD through @jetmon/slo's verbs (tenancy included), status computed
 * on read, daily snapshots, and SLOs as code (OpenSLO export and apply).
 */
import { jsonId, type RouteDefinition, type Slo, type SloStatus, type sloRoutes } from '@jetmon/api-client'
import { type DbOrTx, monitorSites, preparedPerDatabase } from '@jetmon/db'
import type { StatsScope } from '@jetmon/read-models'
import {
  applyOpenSlo,
  createObjective,
  deactivateObjective,
  getObjective,
  getObjectiveWithStreak,
  InvalidInputError,
  InvalidObjectiveError,
  listObjectives,
  listSnapshots,
  type Objective,
  ObjectiveNameTakenError,
  ObjectiveNotFoundError,
  type ObjectiveStreak,
  objectiveStatuses,
  objectiveStreaks,
  objectiveToOpenSlo,
  openSloYaml,
  SiteNotFoundError,
  updateObjective,
} from '@jetmon/slo'
import { eq, sql } from 'drizzle-orm'
import type { Handlers, RequestContext } from '../context.js'
import { Reply } from '../context.js'
import { ApiError, invalidRequest, notFound } from '../errors.js'
import { wantsYaml } from '../media.js'
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../pagination.js'
import { tenantSeesBlog } from '../tenancy.js'

type Ctx = RequestContext<RouteDefinition>

/** Objectives measured at once when a list filters on their status. */
const STATUS_CHUNK = 100

/** Runs a verb of @jetmon/slo, turning its typed errors into API answers. */
async function verb<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof InvalidObjectiveError) throw invalidRequest([...error.issues])
    if (error instanceof ObjectiveNotFoundError) throw notFound('slo', error.objectiveId)
    if (error instanceof SiteNotFoundError) throw notFound('site', error.blogId)
    if (error instanceof ObjectiveNameTakenError) {
      throw new ApiError(409, 'slo_name_taken', `${error.message}; pick another name or update that one`, {
        details: [{ path: 'name', message: 'is taken by another active objective' }],
      })
    }
    if (error instanceof InvalidInputError) throw invalidRequest([{ path: error.field, message: error.message }])
    throw error
  }
}

const sloCtx = (ctx: Ctx) => ({ db: ctx.deps.db, clock: () => ctx.now })

/** An objective in wire form. */
export function sloJson(objective: Objective, tenantId: string | null): Slo {
  return {
    id: jsonId(objective.id),
    name: objective.name,
    blog_id: jsonId(objective.blogId),
    endpoint_id: objective.endpointId === null ? null : jsonId(objective.endpointId),
    sli: objective.sli,
    latency_threshold_ms: objective.latencyThresholdMs,
    target: objective.target,
    window: objective.window,
    alert_policy:
      objective.alertPolicy?.map((rule) => ({
        long: rule.long,
        short: rule.short,
        burn_rate: rule.burnRate,
        severity: rule.severity,
      })) ?? null,
    budget_warn_percent: objective.budgetWarnPercent,
    budget_critical_percent: objective.budgetCriticalPercent,
    active: objective.active,
    ...(tenantId === null || objective.ownerTenantId === null ? {} : { owner_tenant_id: objective.ownerTenantId }),
    created_by: objective.createdBy,
    created_at: objective.createdAt.toISOString(),
    updated_at: objective.updatedAt.toISOString(),
  }
}

/**
 * The statuses of objectives now, with their streaks (read here unless given), in wire form; with
 * `scopes` (one per objective, as `getObjectiveWithStreak` gives them) the scopes are not read again.
 */
async function statusesJson(
  ctx: Ctx,
  objectives: readonly Objective[],
  known?: ReadonlyMap<bigint, ObjectiveStreak>,
  scopes?: readonly (StatsScope | null)[],
): Promise<SloStatus[]> {
  if (objectives.length === 0) return []
  const [statuses, streaks] = await Promise.all([
    objectiveStatuses({ ctx: sloCtx(ctx), objectives, now: ctx.now, ...(scopes ? { scopes } : {}) }),
    known ?? objectiveStreaks({ ctx: sloCtx(ctx), objectiveIds: objectives.map((objective) => objective.id) }),
  ])
  return objectives.map((objective, index) => {
    const status = statuses[index]!
    const streak = streaks.get(objective.id)
    return {
      objective: sloJson(objective, ctx.tenantId),
      unit: status.unit,
      window_start: status.period.from.toISOString(),
      sli_percent: status.sliPercent,
      eligible_seconds: status.eligible,
      budget_total_seconds: status.budgetTotal,
      budget_consumed_seconds: status.budgetConsumed,
      budget_remaining_percent: status.budgetRemainingPercent,
      exhausted: status.exhausted,
      burn_rates: status.burnRates,
      firing: status.firing.map((rule) => ({
        long: rule.long,
        short: rule.short,
        burn_rate: rule.burnRate,
        severity: rule.severity,
      })),
      is_breaching: status.isBreaching,
      has_open_downtime: status.hasOpenDowntime,
      current_streak_days: streak?.currentDays ?? 0,
      best_streak_days: streak?.bestDays ?? 0,
      budget_exhausted_at: status.budgetExhaustedAt?.toISOString() ?? null,
    }
  })
}

/** One endpoint of a site (whether it has any): built once, then bound. */
const anyEndpointOf = preparedPerDatabase((db: DbOrTx, _shape: 'site') =>
  db
    .select({ endpointId: monitorSites.endpointId })
    .from(monitorSites)
    .where(eq(monitorSites.blogId, sql.placeholder('blogId')))
    .limit(1)
    .prepare(),
)

export const sloHandlers: Handlers<typeof sloRoutes> = {
  async 'slos.list'(ctx) {
    const { query } = ctx
    const limit = query.limit ?? DEFAULT_LIMIT
    let after = query.cursor === undefined ? null : decodeCursor(query.cursor, ['id'])[0]
    const list = (pageSize: number) =>
      verb(() =>
        listObjectives({
          ctx: sloCtx(ctx),
          tenantId: ctx.tenantId,
          ...(query.blog_id !== undefined ? { blogId: query.blog_id } : {}),
          ...(query.sli !== undefined ? { sli: query.sli } : {}),
          active: query.active ?? true,
          after,
          limit: pageSize,
        }),
      )
    const pageJson = (objectives: readonly Objective[], next: bigint | null) => ({
      data: objectives.map((objective) => sloJson(objective, ctx.tenantId)),
      page: { next: next === null ? null : encodeCursor([next.toString()]), limit },
    })
    const { breaching, budget_remaining_percent__lt: below } = query
    if (breaching === undefined && below === undefined) {
      const page = await list(limit)
      return pageJson(page.objectives, page.nextAfter)
    }
    // The status filters are computed on read: objectives are measured a chunk at a time, in id
    // order, until the page is full and one more match shows there is a next page.
    const data: Objective[] = []
    for (;;) {
      const page = await list(STATUS_CHUNK)
      const statuses = await objectiveStatuses({ ctx: sloCtx(ctx), objectives: page.objectives, now: ctx.now })
      for (const [index, objective] of page.objectives.entries()) {
        const status = statuses[index]!
        if (breaching !== undefined && status.isBreaching !== breaching) continue
        if (below !== undefined && !(status.budgetRemainingPercent < below)) continue
        if (data.length === limit) return pageJson(data, data.at(-1)!.id)
        data.push(objective)
      }
      if (page.nextAfter === null) return pageJson(data, null)
      after = page.nextAfter
    }
  },

  async 'slos.create'(ctx) {
    const objective = await verb(() =>
      createObjective({
        ctx: sloCtx(ctx),
        tenantId: ctx.tenantId,
        createdBy: ctx.principal.consumer,
        fields: ctx.body,
      }),
    )
    return new Reply(sloJson(objective, ctx.tenantId), 201)
  },

  async 'slos.get'(ctx) {
    const objective = await verb(() => getObjective({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, id: ctx.params.id }))
    return sloJson(objective, ctx.tenantId)
  },

  async 'slos.update'(ctx) {
    const changes = Object.fromEntries(Object.entries(ctx.body).filter(([, value]) => value !== undefined))
    const objective = await verb(() =>
      updateObjective({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, id: ctx.params.id, changes }),
    )
    return sloJson(objective, ctx.tenantId)
  },

  async 'slos.delete'(ctx) {
    await verb(() => deactivateObjective({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, id: ctx.params.id }))
    return new Reply(undefined, 204)
  },

  async 'slos.status'(ctx) {
    const { objective, streak, scope } = await verb(() =>
      getObjectiveWithStreak({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, id: ctx.params.id }),
    )
    const [status] = await statusesJson(ctx, [objective], new Map([[objective.id, streak]]), [scope])
    return status!
  },

  async 'slos.snapshots'(ctx) {
    const limit = ctx.query.limit ?? DEFAULT_LIMIT
    await verb(() => getObjective({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, id: ctx.params.id }))
    let before: string | null = null
    if (ctx.query.cursor !== undefined) {
      const [day] = decodeCursor(ctx.query.cursor, ['string'])
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
        throw invalidRequest([{ path: 'query.cursor', message: 'is not a cursor this API issued for this list' }])
      }
      before = day
    }
    const page = await listSnapshots({ ctx: sloCtx(ctx), objectiveId: ctx.params.id, before, limit })
    return {
      data: page.snapshots.map((snapshot) => ({
        day: snapshot.day,
        sli: snapshot.sli,
        budget_consumed_seconds: snapshot.budgetConsumedSeconds,
        budget_remaining_percent: snapshot.budgetRemainingPercent,
        burn_rate_24h: snapshot.burnRate24h,
        streak_days: snapshot.streakDays,
        incidents: snapshot.incidents,
      })),
      page: { next: page.nextBefore === null ? null : encodeCursor([page.nextBefore]), limit },
    }
  },

  async 'slos.site'(ctx) {
    const blogId = ctx.params.blog_id
    const limit = ctx.query.limit ?? DEFAULT_LIMIT
    const [site] = await anyEndpointOf(ctx.deps.db, 'site').execute({ blogId })
    if (!site || !(await tenantSeesBlog(ctx, blogId))) throw notFound('site', blogId)
    const after = ctx.query.cursor === undefined ? null : decodeCursor(ctx.query.cursor, ['id'])[0]
    const page = await verb(() =>
      listObjectives({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, blogId, active: true, after, limit }),
    )
    return {
      data: await statusesJson(ctx, page.objectives),
      page: { next: page.nextAfter === null ? null : encodeCursor([page.nextAfter.toString()]), limit },
    }
  },

  async 'slos.openslo'(ctx) {
    const objective = await verb(() => getObjective({ ctx: sloCtx(ctx), tenantId: ctx.tenantId, id: ctx.params.id }))
    const documents = [objectiveToOpenSlo(objective)]
    if (wantsYaml(ctx.header('accept'))) {
      return new Reply(openSloYaml(documents) as never, 200, { 'Content-Type': 'application/yaml; charset=utf-8' })
    }
    return documents
  },

  async 'slos.apply'(ctx) {
    const report = await verb(() =>
      applyOpenSlo({
        ctx: sloCtx(ctx),
        tenantId: ctx.tenantId,
        createdBy: ctx.principal.consumer,
        documents: ctx.body,
        dryRun: ctx.query.dry_run ?? false,
      }),
    )
    const summary = { create: 0, update: 0, unchanged: 0 }
    for (const document of report.documents) summary[document.action]++
    return {
      dry_run: report.dryRun,
      summary,
      documents: report.documents.map((document) => ({
        index: document.index,
        name: document.name,
        action: document.action,
        objective: document.objective === null ? null : sloJson(document.objective, ctx.tenantId),
        changes: document.changes,
      })),
    }
  },
}
