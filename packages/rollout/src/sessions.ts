/**
 * Rollout sessions: one migration of a bucket range, grouping its jobs. A paused session refuses
 * further policy stages until it is resumed.
 */
import { type DbOrTx, rolloutSessions } from '@jetmon/db'
import { and, desc, eq, lt } from 'drizzle-orm'
import * as v from 'valibot'
import { RangeEntries, rangeChecked } from './_params.js'
import { InvalidParametersError, SessionClosedError, SessionNotFoundError } from './errors.js'
import { listJobs, type RolloutContext, type RolloutJob, recordJob } from './jobs.js'

export type SessionState = 'active' | 'paused' | 'closed'

export interface RolloutSession {
  id: bigint
  name: string
  bucketMin: number
  bucketMax: number
  state: SessionState
  createdBy: string
  createdAt: Date
  updatedAt: Date
}

const SessionInput = rangeChecked(
  v.strictObject({
    name: v.pipe(
      v.string('must be a string'),
      v.trim(),
      v.minLength(1, 'must not be empty'),
      v.maxLength(128, 'must be at most 128 characters'),
    ),
    ...RangeEntries,
  }),
)

/**
 * Creates a session for the buckets `bucket_min`–`bucket_max`.
 *
 * @throws InvalidParametersError for a missing name or a range upside down.
 */
export async function createSession(
  ctx: RolloutContext,
  input: { name: string; bucket_min: number; bucket_max: number },
): Promise<RolloutSession> {
  const parsed = v.safeParse(SessionInput, input)
  if (!parsed.success) {
    throw new InvalidParametersError(
      parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message })),
    )
  }
  const now = (ctx.clock ?? (() => new Date()))()
  const [header] = await ctx.db.insert(rolloutSessions).values({
    name: parsed.output.name,
    bucketMin: parsed.output.bucket_min,
    bucketMax: parsed.output.bucket_max,
    createdBy: ctx.actor,
    createdAt: now,
    updatedAt: now,
  })
  const session = await getSession(ctx, BigInt(header.insertId))
  if (!session) throw new Error('the session just created is gone')
  return session
}

/** One session, or null. */
export async function getSession(ctx: { db: DbOrTx }, id: bigint): Promise<RolloutSession | null> {
  const [row] = await ctx.db.select().from(rolloutSessions).where(eq(rolloutSessions.id, id)).limit(1)
  return (row as RolloutSession | undefined) ?? null
}

/** Sessions, newest first, a page at a time (`before`: the smallest id of the previous page). */
export async function listSessions(
  ctx: { db: DbOrTx },
  input: { limit?: number; before?: bigint; state?: SessionState } = {},
): Promise<RolloutSession[]> {
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 500)
  const rows = await ctx.db
    .select()
    .from(rolloutSessions)
    .where(
      and(
        input.before === undefined ? undefined : lt(rolloutSessions.id, input.before),
        input.state === undefined ? undefined : eq(rolloutSessions.state, input.state),
      ),
    )
    .orderBy(desc(rolloutSessions.id))
    .limit(limit)
  return rows as RolloutSession[]
}

/** A session with its jobs, newest first (`jobsLimit`, default 50). */
export async function getSessionWithJobs(
  ctx: { db: DbOrTx },
  id: bigint,
  options: { jobsLimit?: number; jobsBefore?: bigint } = {},
): Promise<{ session: RolloutSession; jobs: RolloutJob[] } | null> {
  const session = await getSession(ctx, id)
  if (!session) return null
  const jobs = await listJobs(ctx, {
    sessionId: id,
    ...(options.jobsLimit === undefined ? {} : { limit: options.jobsLimit }),
    ...(options.jobsBefore === undefined ? {} : { before: options.jobsBefore }),
  })
  return { session, jobs }
}

/**
 * Pauses a session: policy stages of its range are refused until it is resumed. Pausing a paused
 * session changes nothing. Recorded as a `pause` job.
 *
 * @throws SessionNotFoundError, SessionClosedError
 */
export function pauseSession(ctx: RolloutContext, id: bigint): Promise<RolloutSession> {
  return setSessionState(ctx, id, 'paused')
}

/** Resumes a paused session (a running one is returned as it is). Recorded as a `resume` job. */
export function resumeSession(ctx: RolloutContext, id: bigint): Promise<RolloutSession> {
  return setSessionState(ctx, id, 'active')
}

async function setSessionState(ctx: RolloutContext, id: bigint, state: 'active' | 'paused'): Promise<RolloutSession> {
  const now = (ctx.clock ?? (() => new Date()))()
  const session = await getSession(ctx, id)
  if (!session) throw new SessionNotFoundError(id)
  if (session.state === 'closed') throw new SessionClosedError(id)
  if (session.state !== state) {
    await ctx.db.update(rolloutSessions).set({ state, updatedAt: now }).where(eq(rolloutSessions.id, id))
  }
  await recordJob(ctx, {
    sessionId: id,
    step: state === 'paused' ? 'pause' : 'resume',
    dryRun: false,
    parameters: { session_id: id.toString() },
    outcome: 'applied',
    result: { state_before: session.state, state },
    startedAt: now,
  })
  return { ...session, state, updatedAt: session.state === state ? session.updatedAt : now }
}
