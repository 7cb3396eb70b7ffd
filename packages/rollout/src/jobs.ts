/**
 * Rollout jobs: every step, dry run or execution, leaves one row in `jetmon_rollout_jobs` with what
 * was asked, the plan, the outcome and who asked. A job is written once, when the step is over, so a
 * crashed step leaves no half-written row.
 */
import { type Db, rolloutJobs } from '@jetmon/db'
import { and, desc, eq, lt } from 'drizzle-orm'

/** What rollout verbs need: the database, a clock (tests pass a manual one) and who is acting. */
export interface RolloutContext {
  db: Db
  clock?: () => Date
  /** Who asks, as recorded on every job: `api:<key name>`, `cli:<user>`. */
  actor: string
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
export async function getJob(ctx: { db: Db }, id: bigint): Promise<RolloutJob | null> {
  const [row] = await ctx.db.select().from(rolloutJobs).where(eq(rolloutJobs.id, id)).limit(1)
  return row ? (row as RolloutJob) : null
}

/** A session's jobs, newest first, a page at a time (`before`: the smallest id of the previous page). */
export async function listJobs(
  ctx: { db: Db },
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
