/**
 * Check-policy stages: a migrated range starts on HEAD + legacy and moves cohort by cohort to
 * GET + simple_http, then to GET + full. A stage moves `size` endpoints of a range from one policy
 * to another, remembering each endpoint's previous values so that it can be rolled back.
 *
 * Values are those of `jetmon_endpoint_config` (NULL: the fleet default). Every change sets the
 * row's `updated_at`, so the monitor's incremental refresh picks it up.
 */
import {
  type DbOrTx,
  endpointConfig,
  monitorSites,
  rolloutPolicyStageRows,
  rolloutPolicyStages,
  rolloutSessions,
} from '@jetmon/db'
import {
  DEFAULT_DETECTION_PROFILE,
  DEFAULT_REQUEST_METHOD,
  type DetectionProfile,
  type RequestMethod,
} from '@jetmon/vocabulary'
import { and, asc, between, desc, eq, gte, inArray, isNull, lte, type SQL, sql } from 'drizzle-orm'
import * as v from 'valibot'
import { Policy, RangeEntries, rangeChecked, rangeText } from './_params.js'
import { type Problem, StageNotFoundError } from './errors.js'
import type { RolloutContext } from './jobs.js'
import { defineStep, hashOf, runStep, type StepOutcome, type StepRequest } from './two-phase.js'

/** Endpoints a stage moves at most. */
export const MAX_STAGE_SIZE = 1_000_000
/** Endpoint ids a plan or result lists at most. */
const LISTED = 100
/** Rows per statement when writing a stage. */
const CHUNK = 1000

export const StageParameters = v.pipe(
  rangeChecked(
    v.strictObject({
      ...RangeEntries,
      to: Policy,
      from: v.optional(Policy),
      size: v.pipe(
        v.number('is required: how many endpoints this stage moves'),
        v.safeInteger('must be a whole number'),
        v.minValue(1, 'must be at least 1'),
        v.maxValue(MAX_STAGE_SIZE, `must be at most ${MAX_STAGE_SIZE}`),
      ),
    }),
  ),
  v.forward(
    v.check(
      (input) => !input.from || input.from.method !== input.to.method || input.from.profile !== input.to.profile,
      'must differ from `from`',
    ),
    ['to'],
  ),
)
export type StageParameters = v.InferOutput<typeof StageParameters>

export interface StagePlan {
  bucket_min: number
  bucket_max: number
  /** null: every endpoint not already on `to`. */
  from: Policy | null
  to: Policy
  size: number
  /** Endpoints the stage moves (at most `size`), lowest id first. */
  selected: number
  /** The first of them. */
  endpoint_ids: bigint[]
  /** sha256 of every selected endpoint with its current values: another selection is another plan. */
  selection_digest: string
}

interface Selected {
  endpointId: bigint
  method: RequestMethod | null
  profile: DetectionProfile | null
}

function defaultsOf(ctx: RolloutContext) {
  return {
    method: ctx.checkPolicyDefaults?.requestMethod ?? DEFAULT_REQUEST_METHOD,
    profile: ctx.checkPolicyDefaults?.detectionProfile ?? DEFAULT_DETECTION_PROFILE,
  }
}

/** The active endpoints of the range on `from` (or not on `to`), lowest id first, `size` at most. */
async function selectEndpoints(ctx: RolloutContext, params: StageParameters): Promise<Selected[]> {
  const defaults = defaultsOf(ctx)
  const method = sql`COALESCE(${endpointConfig.requestMethod}, ${defaults.method})`
  const profile = sql`COALESCE(${endpointConfig.detectionProfile}, ${defaults.profile})`
  const onPolicy = (policy: Policy): SQL => sql`(${method} = ${policy.method} AND ${profile} = ${policy.profile})`
  const rows = await ctx.db
    .select({
      endpointId: monitorSites.endpointId,
      method: endpointConfig.requestMethod,
      profile: endpointConfig.detectionProfile,
    })
    .from(monitorSites)
    .leftJoin(endpointConfig, eq(endpointConfig.endpointId, monitorSites.endpointId))
    .where(
      and(
        eq(monitorSites.monitorActive, 1),
        between(monitorSites.bucketNo, params.bucket_min, params.bucket_max),
        params.from ? onPolicy(params.from) : sql`NOT ${onPolicy(params.to)}`,
      ),
    )
    .orderBy(asc(monitorSites.endpointId))
    .limit(params.size)
  return rows
}

/** Sessions of an overlapping range that are paused. */
async function pausedSessions(ctx: { db: DbOrTx }, range: { min: number; max: number }) {
  return ctx.db
    .select({ id: rolloutSessions.id, name: rolloutSessions.name })
    .from(rolloutSessions)
    .where(
      and(
        eq(rolloutSessions.state, 'paused'),
        lte(rolloutSessions.bucketMin, range.max),
        gte(rolloutSessions.bucketMax, range.min),
      ),
    )
}

/**
 * `policy-stage {bucket_min, bucket_max, to, from?, size}`: moves the first `size` active endpoints
 * of the range that are on `from` (every policy but `to` when absent) to `to`, saving their previous
 * values in a stage. Blocked while a session of the range is paused, and when no endpoint is on
 * `from`.
 */
export const policyStageStep = defineStep({
  name: 'policy-stage',
  parameters: StageParameters,
  async plan(ctx, params) {
    const range = { min: params.bucket_min, max: params.bucket_max }
    const [selected, paused] = await Promise.all([selectEndpoints(ctx, params), pausedSessions(ctx, range)])
    const blocked: Problem[] = paused.map((session) => ({
      code: 'session_paused',
      message: `session ${session.id} (${session.name}) of this range is paused: resume it before the next policy stage`,
    }))
    const fromText = params.from
      ? `${params.from.method}/${params.from.profile}`
      : `any policy but ${params.to.method}/${params.to.profile}`
    if (selected.length === 0) {
      blocked.push({
        code: 'no_endpoints',
        message: `no active endpoint of ${rangeText(params)} is on ${fromText}: nothing to move`,
      })
    }
    const warnings: Problem[] = []
    if (selected.length > 0 && selected.length < params.size) {
      warnings.push({
        code: 'fewer_than_size',
        message: `only ${selected.length} active endpoint(s) of ${rangeText(params)} are on ${fromText}; the stage moves those`,
      })
    }
    const plan: StagePlan = {
      bucket_min: params.bucket_min,
      bucket_max: params.bucket_max,
      from: params.from ?? null,
      to: params.to,
      size: params.size,
      selected: selected.length,
      endpoint_ids: selected.slice(0, LISTED).map((row) => row.endpointId),
      selection_digest: hashOf(selected),
    }
    return { plan, blocked, warnings }
  },
  async execute(ctx, params) {
    const now = (ctx.clock ?? (() => new Date()))()
    const selected = await selectEndpoints(ctx, params)
    if (ctx.jobId === null) throw new Error('a policy stage runs in a transaction with its job')
    const [header] = await ctx.db.insert(rolloutPolicyStages).values({
      sessionId: ctx.sessionId,
      jobId: ctx.jobId,
      bucketMin: params.bucket_min,
      bucketMax: params.bucket_max,
      fromMethod: params.from?.method ?? null,
      fromProfile: params.from?.profile ?? null,
      toMethod: params.to.method,
      toProfile: params.to.profile,
      size: params.size,
      state: 'applied',
      createdAt: now,
    })
    const stageId = BigInt(header.insertId)
    for (let at = 0; at < selected.length; at += CHUNK) {
      const chunk = selected.slice(at, at + CHUNK)
      await ctx.db.insert(rolloutPolicyStageRows).values(
        chunk.map((row) => ({
          stageId,
          endpointId: row.endpointId,
          previousMethod: row.method,
          previousProfile: row.profile,
          appliedMethod: params.to.method,
          appliedProfile: params.to.profile,
        })),
      )
      await ctx.db
        .insert(endpointConfig)
        .values(
          chunk.map((row) => ({
            endpointId: row.endpointId,
            requestMethod: params.to.method,
            detectionProfile: params.to.profile,
            updatedAt: now,
          })),
        )
        .onDuplicateKeyUpdate({
          set: { requestMethod: params.to.method, detectionProfile: params.to.profile, updatedAt: now },
        })
    }
    return { stage_id: stageId, moved: selected.length }
  },
})

/** A policy stage, dry run or execution (see {@link policyStageStep}). */
export function applyPolicyStage(
  ctx: RolloutContext,
  request: StepRequest,
): Promise<StepOutcome<StagePlan, { stage_id: bigint; moved: number }>> {
  return runStep(ctx, policyStageStep, request)
}

export interface PolicyStage {
  id: bigint
  sessionId: bigint | null
  jobId: bigint
  bucketMin: number
  bucketMax: number
  from: Policy | null
  to: Policy
  size: number
  /** Endpoints the stage moved, and how many of them a rollback restored. */
  moved: number
  restored: number
  state: 'applied' | 'rolled_back'
  createdAt: Date
  rolledBackAt: Date | null
}

/** Policy stages, newest first: of a range (overlapping it) or a session when given. */
export async function listPolicyStages(
  ctx: { db: DbOrTx },
  filter: { bucketMin?: number; bucketMax?: number; sessionId?: bigint; limit?: number; before?: bigint } = {},
): Promise<PolicyStage[]> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500)
  const s = rolloutPolicyStages
  const rows = await ctx.db
    .select({
      stage: s,
      moved: sql<number>`(SELECT COUNT(*) FROM ${rolloutPolicyStageRows} r WHERE r.stage_id = ${s.id})`.mapWith(Number),
      restored:
        sql<number>`(SELECT COUNT(*) FROM ${rolloutPolicyStageRows} r WHERE r.stage_id = ${s.id} AND r.restored_at IS NOT NULL)`.mapWith(
          Number,
        ),
    })
    .from(s)
    .where(
      and(
        filter.bucketMax === undefined ? undefined : lte(s.bucketMin, filter.bucketMax),
        filter.bucketMin === undefined ? undefined : gte(s.bucketMax, filter.bucketMin),
        filter.sessionId === undefined ? undefined : eq(s.sessionId, filter.sessionId),
        filter.before === undefined ? undefined : sql`${s.id} < ${filter.before}`,
      ),
    )
    .orderBy(desc(s.id))
    .limit(limit)
  return rows.map(({ stage, moved, restored }) => ({
    id: stage.id,
    sessionId: stage.sessionId,
    jobId: stage.jobId,
    bucketMin: stage.bucketMin,
    bucketMax: stage.bucketMax,
    from: stage.fromMethod && stage.fromProfile ? { method: stage.fromMethod, profile: stage.fromProfile } : null,
    to: { method: stage.toMethod, profile: stage.toProfile },
    size: stage.size,
    moved,
    restored,
    state: stage.state,
    createdAt: stage.createdAt,
    rolledBackAt: stage.rolledBackAt,
  }))
}

/** One stage, or null. */
export async function getPolicyStage(ctx: { db: DbOrTx }, id: bigint): Promise<PolicyStage | null> {
  const [row] = await listPolicyStages(ctx, { before: id + 1n, limit: 1 })
  return row && row.id === id ? row : null
}

// ── Rollback ────────────────────────────────────────────────────────────────────────────────────

interface RollbackRow {
  stageId: bigint
  endpointId: bigint
  previousMethod: RequestMethod | null
  previousProfile: DetectionProfile | null
  appliedMethod: RequestMethod
  appliedProfile: DetectionProfile
}

export interface RollbackPlan {
  stages: {
    stage_id: bigint
    /** Endpoints whose values go back to what they were before the stage. */
    restore: number
    /** Endpoints someone changed since the stage: left as they are. */
    skipped: number
    skipped_endpoint_ids: bigint[]
  }[]
  restore: number
  skipped: number
  /** sha256 of every row to restore and to skip: another set is another plan. */
  digest: string
}

/**
 * Plans the rollback of `stageIds` in that order (newest first): a row is restored when the
 * endpoint still has the values the stage applied — counting the rollbacks before it in the same
 * run — and skipped when someone changed it since.
 */
async function planRollback(
  ctx: RolloutContext,
  stageIds: bigint[],
): Promise<{ plan: RollbackPlan; restore: Map<bigint, RollbackRow[]> }> {
  const rows =
    stageIds.length === 0
      ? []
      : await ctx.db
          .select()
          .from(rolloutPolicyStageRows)
          .where(and(inArray(rolloutPolicyStageRows.stageId, stageIds), isNull(rolloutPolicyStageRows.restoredAt)))
          .orderBy(asc(rolloutPolicyStageRows.endpointId))
  const endpointIds = [...new Set(rows.map((row) => row.endpointId))]
  const current = new Map<bigint, { method: RequestMethod | null; profile: DetectionProfile | null }>()
  for (let at = 0; at < endpointIds.length; at += CHUNK) {
    const found = await ctx.db
      .select({
        endpointId: endpointConfig.endpointId,
        method: endpointConfig.requestMethod,
        profile: endpointConfig.detectionProfile,
      })
      .from(endpointConfig)
      .where(inArray(endpointConfig.endpointId, endpointIds.slice(at, at + CHUNK)))
    for (const row of found) current.set(row.endpointId, { method: row.method, profile: row.profile })
  }
  const plan: RollbackPlan = { stages: [], restore: 0, skipped: 0, digest: '' }
  const restore = new Map<bigint, RollbackRow[]>()
  const digest: unknown[] = []
  for (const stageId of stageIds) {
    const restored: RollbackRow[] = []
    const skipped: bigint[] = []
    for (const row of rows) {
      if (row.stageId !== stageId) continue
      const now = current.get(row.endpointId) ?? { method: null, profile: null }
      if (now.method === row.appliedMethod && now.profile === row.appliedProfile) {
        restored.push(row)
        current.set(row.endpointId, { method: row.previousMethod, profile: row.previousProfile })
      } else {
        skipped.push(row.endpointId)
      }
    }
    restore.set(stageId, restored)
    plan.stages.push({
      stage_id: stageId,
      restore: restored.length,
      skipped: skipped.length,
      skipped_endpoint_ids: skipped.slice(0, LISTED),
    })
    plan.restore += restored.length
    plan.skipped += skipped.length
    digest.push(
      stageId,
      restored.map((row) => row.endpointId),
      skipped,
    )
  }
  plan.digest = hashOf(digest)
  return { plan, restore }
}

async function executeRollback(
  ctx: RolloutContext,
  stageIds: bigint[],
  restore: Map<bigint, RollbackRow[]>,
): Promise<{ stage_ids: bigint[]; restored: number }> {
  const now = (ctx.clock ?? (() => new Date()))()
  let restored = 0
  for (const stageId of stageIds) {
    const rows = restore.get(stageId) ?? []
    // One UPDATE per previous value (at most 12 pairs, NULL included) and chunk of endpoints.
    const byPrevious = new Map<string, RollbackRow[]>()
    for (const row of rows) {
      const key = `${row.previousMethod}/${row.previousProfile}`
      const group = byPrevious.get(key)
      if (group) group.push(row)
      else byPrevious.set(key, [row])
    }
    for (const group of byPrevious.values()) {
      const first = group[0] as RollbackRow
      for (let at = 0; at < group.length; at += CHUNK) {
        await ctx.db
          .update(endpointConfig)
          .set({ requestMethod: first.previousMethod, detectionProfile: first.previousProfile, updatedAt: now })
          .where(
            inArray(
              endpointConfig.endpointId,
              group.slice(at, at + CHUNK).map((row) => row.endpointId),
            ),
          )
      }
    }
    for (let at = 0; at < rows.length; at += CHUNK) {
      await ctx.db
        .update(rolloutPolicyStageRows)
        .set({ restoredAt: now })
        .where(
          and(
            eq(rolloutPolicyStageRows.stageId, stageId),
            inArray(
              rolloutPolicyStageRows.endpointId,
              rows.slice(at, at + CHUNK).map((row) => row.endpointId),
            ),
          ),
        )
    }
    await ctx.db
      .update(rolloutPolicyStages)
      .set({ state: 'rolled_back', rolledBackAt: now })
      .where(eq(rolloutPolicyStages.id, stageId))
    restored += rows.length
  }
  return { stage_ids: stageIds, restored }
}

export const StageRollbackParameters = v.strictObject({
  stage_id: v.pipe(
    v.union([v.number(), v.string(), v.bigint()], 'must be a stage id'),
    v.transform((input) => String(input)),
    v.regex(/^[1-9][0-9]{0,19}$/, 'must be a stage id'),
  ),
})

async function requireStage(ctx: RolloutContext, id: bigint) {
  const [stage] = await ctx.db.select().from(rolloutPolicyStages).where(eq(rolloutPolicyStages.id, id)).limit(1)
  if (!stage) throw new StageNotFoundError(id)
  return stage
}

/**
 * `stage-rollback {stage_id}`: restores the previous values of one stage's endpoints; endpoints
 * someone changed since are skipped and listed. Blocked when the stage was already rolled back.
 *
 * @throws StageNotFoundError
 */
export const stageRollbackStep = defineStep({
  name: 'stage-rollback',
  parameters: StageRollbackParameters,
  async plan(ctx, params) {
    const stage = await requireStage(ctx, BigInt(params.stage_id))
    const blocked: Problem[] = []
    if (stage.state === 'rolled_back') {
      blocked.push({
        code: 'stage_rolled_back',
        message: `stage ${stage.id} was already rolled back at ${stage.rolledBackAt?.toISOString() ?? 'an earlier time'}`,
      })
    }
    const { plan } = await planRollback(ctx, stage.state === 'applied' ? [stage.id] : [])
    return { plan, blocked, warnings: skippedWarnings(plan) }
  },
  async execute(ctx, params) {
    const { restore } = await planRollback(ctx, [BigInt(params.stage_id)])
    return executeRollback(ctx, [BigInt(params.stage_id)], restore)
  },
})

export const RollbackAllParameters = rangeChecked(v.strictObject({ ...RangeEntries }))

/** Applied stages of a range (overlapping it), newest first. */
async function appliedStagesOf(ctx: RolloutContext, range: { min: number; max: number }): Promise<bigint[]> {
  const rows = await ctx.db
    .select({ id: rolloutPolicyStages.id })
    .from(rolloutPolicyStages)
    .where(
      and(
        eq(rolloutPolicyStages.state, 'applied'),
        lte(rolloutPolicyStages.bucketMin, range.max),
        gte(rolloutPolicyStages.bucketMax, range.min),
      ),
    )
    .orderBy(desc(rolloutPolicyStages.id))
  return rows.map((row) => row.id)
}

/**
 * `stage-rollback-all {bucket_min, bucket_max}`: rolls back every applied stage of the range,
 * newest first, so that an endpoint two stages moved ends on its values before the first. Blocked
 * when the range has no applied stage.
 */
export const rollbackAllStep = defineStep({
  name: 'stage-rollback-all',
  parameters: RollbackAllParameters,
  async plan(ctx, params) {
    const stageIds = await appliedStagesOf(ctx, { min: params.bucket_min, max: params.bucket_max })
    const blocked: Problem[] =
      stageIds.length === 0
        ? [{ code: 'no_stages', message: `no applied policy stage overlaps ${rangeText(params)}` }]
        : []
    const { plan } = await planRollback(ctx, stageIds)
    return { plan, blocked, warnings: skippedWarnings(plan) }
  },
  async execute(ctx, params) {
    const stageIds = await appliedStagesOf(ctx, { min: params.bucket_min, max: params.bucket_max })
    const { restore } = await planRollback(ctx, stageIds)
    return executeRollback(ctx, stageIds, restore)
  },
})

function skippedWarnings(plan: RollbackPlan): Problem[] {
  return plan.stages
    .filter((stage) => stage.skipped > 0)
    .map((stage) => ({
      code: 'rows_changed_since',
      message: `${stage.skipped} endpoint(s) of stage ${stage.stage_id} were changed by someone else since the stage and keep their values: ${stage.skipped_endpoint_ids.join(', ')}${stage.skipped > stage.skipped_endpoint_ids.length ? ', …' : ''}`,
    }))
}

/** One stage's rollback, dry run or execution (see {@link stageRollbackStep}). */
export function rollbackPolicyStage(
  ctx: RolloutContext,
  request: StepRequest,
): Promise<StepOutcome<RollbackPlan, { stage_ids: bigint[]; restored: number }>> {
  return runStep(ctx, stageRollbackStep, request)
}

/** Every stage of a range rolled back, dry run or execution (see {@link rollbackAllStep}). */
export function rollbackAllPolicyStages(
  ctx: RolloutContext,
  request: StepRequest,
): Promise<StepOutcome<RollbackPlan, { stage_ids: bigint[]; restored: number }>> {
  return runStep(ctx, rollbackAllStep, request)
}
