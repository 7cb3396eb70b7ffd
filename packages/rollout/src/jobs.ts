/**
 * Rollout jobs: every step, dry run or execution, leaves one row in `jetmon_rollout_jobs` with what
 * was asked, the plan, the outcome and who asked. A job is written when the step is over, or inside
 * the transaction of the step's changes, so a crashed step leaves no half-written row.
 */
import { type DbOrTx, type Logger, rolloutJobs } from '@jetmon/db'
import type { DetectionProfile, RequestMethod } from '@jetmon/vocabulary'
import { and, desc, eq, lt } from 'drizzle-orm'

/** What rollout verbs need: the database, a clock (tests pass a manual one) and who is acting. */
export interface RolloutContext {
  db: DbOrTx
  clock?: () => Date
  /** Who asks, as recorded on every job: `api:<key name>`, `cli:<user>`. */
  actor: string
  /**
   * The identity a confirmation token is bound to: the API key (`key:<id>`), so that another key
   * of the same consumer cannot execute it. Default: `actor`.
   */
  principal?: string
  logger?: Logger
  /** `ROLLOUT_TOKEN_TTL_SEC`: how long a dry run's confirmation token is valid (default 600). */
  tokenTtlSec?: number
  /** `BUCKET_TOTAL`: buckets are numbered 0 … bucketTotal − 1 (default 1000). */
  bucketTotal?: number
  /** The fleet's check policy for endpoints whose own columns are NULL (default GET and full). */
  checkPolicyDefaults?: { requestMethod?: RequestMethod; detectionProfile?: DetectionProfile }
  /** `LEGACY_STATUS_PROJECTION_ENABLE`, for adoption (default true). */
  projection?: boolean
  /** Waits `ms` (a release waiting for its acknowledgement). Default: a timer; tests pass manual time. */
  sleep?: (ms: number) => Promise<void>
}

export type JobOutcome = 'planned' | 'blocked' | 'applied' | 'refused' | 'failed'

export interface JobInput {
  sessionId?: bigint | null
  step: string
  dryRun: boolean
  parameters: Record<string, unknown>
  plan?: Record<string, unknown> | null
  outcome: JobOutcome
  errorCode?: string | null
  result?: Record<string, unknown> | null
  startedAt: Date
}

export interface RolloutJob {
  id: bigint
  sessionId: bigint | null
  step: string
  dryRun: boolean
  parameters: Record<string, unknown>
  plan: Record<string, unknown> | null
  outcome: JobOutcome
  errorCode: string | null
  result: Record<string, unknown> | null
  actor: string
  startedAt: Date
  finishedAt: Date | null
}

/** Records a finished step and returns its id. Pass a transaction as `db` to write it with the step's own changes. */
export async function recordJob(ctx: RolloutContext, job: JobInput): Promise<bigint> {
  const now = (ctx.clock ?? (() => new Date()))()
  const [header] = await ctx.db.insert(rolloutJobs).values({
    sessionId: job.sessionId ?? null,
    step: job.step,
    dryRun: job.dryRun,
    parameters: job.parameters,
    plan: job.plan ?? null,
    outcome: job.outcome,
    errorCode: job.errorCode ?? null,
    result: job.result ?? null,
    actor: ctx.actor,
    startedAt: job.startedAt,
    finishedAt: now,
  })
  return BigInt(header.insertId)
}

/** One job by id, or null. */
export async function getJob(ctx: { db: DbOrTx }, id: bigint): Promise<RolloutJob | null> {
  const [row] = await ctx.db.select().from(rolloutJobs).where(eq(rolloutJobs.id, id)).limit(1)
  return row ? (row as RolloutJob) : null
}

/** A session's jobs, newest first, a page at a time (`before`: the smallest id of the previous page). */
export async function listJobs(
  ctx: { db: DbOrTx },
  input: { sessionId: bigint; limit?: number; before?: bigint },
): Promise<RolloutJob[]> {
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 500)
  const where =
    input.before === undefined
      ? eq(rolloutJobs.sessionId, input.sessionId)
      : and(eq(rolloutJobs.sessionId, input.sessionId), lt(rolloutJobs.id, input.before))
  const rows = await ctx.db.select().from(rolloutJobs).where(where).orderBy(desc(rolloutJobs.id)).limit(limit)
  return rows as RolloutJob[]
}

/** Sets the result (and finish time) of a job recorded before its step was over. */
export async function finishJob(ctx: RolloutContext, id: bigint, result: Record<string, unknown>): Promise<void> {
  const now = (ctx.clock ?? (() => new Date()))()
  await ctx.db.update(rolloutJobs).set({ result, finishedAt: now }).where(eq(rolloutJobs.id, id))
}
