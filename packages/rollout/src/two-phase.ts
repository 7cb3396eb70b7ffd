/**
 * The two-phase rule: every step that changes something is first run as a dry run, which changes
 * nothing, records a job and hands out a confirmation token; executing the step needs that token.
 *
 * The token (random, base64url) is stored only as its sha256, bound to who asked (the API key), the
 * step, a hash of the canonical parameters and a hash of the plan. An execution is refused when the
 * token is missing, belongs to another step, parameters or key, has expired or was used, when the
 * dry run had blockers, or when the plan computed now differs from the dry run's (someone changed
 * the range since). Each refusal is recorded as a `refused` job with its code. The token is claimed
 * with a single conditional UPDATE, so of two executions racing with one token only one runs.
 */
import { createHash, randomBytes } from 'node:crypto'
import { rolloutJobs, rolloutSessions, rolloutTokens, withTransaction } from '@jetmon/db'
import { eq, sql } from 'drizzle-orm'
import * as v from 'valibot'
import {
  ConfirmationError,
  type ConfirmationErrorCode,
  InvalidParametersError,
  type Problem,
  SessionClosedError,
  SessionNotFoundError,
} from './errors.js'
import { finishJob, type RolloutContext, recordJob } from './jobs.js'

/** Default lifetime of a confirmation token (`ROLLOUT_TOKEN_TTL_SEC`). */
export const DEFAULT_TOKEN_TTL_SEC = 600

/** What a step's planning found: the plan, what blocks it and what the operator should know. */
export interface StepPlan<Plan> {
  /** What executing would do, computed from the database as it is now. Hashed: keep it free of times. */
  plan: Plan
  blocked: Problem[]
  warnings: Problem[]
}

/** Execution-time facts a step receives besides its parameters and plan. */
export interface ExecutionContext extends RolloutContext {
  /** The job of this execution, already recorded in the step's transaction (null for steps without one). */
  jobId: bigint | null
  sessionId: bigint | null
}

/** One step of the rollout that changes something. */
export interface StepDefinition<P, Plan, Result, Options = undefined> {
  /** `activate`, `release`, … (recorded on jobs and tokens). */
  name: string
  /** Validates and normalises the parameters (defaults applied); each problem has its own path. */
  parameters: v.GenericSchema<unknown, P>
  plan(ctx: RolloutContext, params: P): Promise<StepPlan<Plan>>
  execute(ctx: ExecutionContext, params: P, plan: Plan): Promise<Result>
  /**
   * Default true: claim the token, plan again, execute and record the job in one transaction,
   * serialised with every other rollout execution. False: the step commits its own work (adoption
   * in batches), and the job is recorded when it is over.
   */
  transaction?: boolean
  /** Runs after the transaction committed (a release waiting for its acknowledgement); its answer is the result. */
  settle?(ctx: ExecutionContext, params: P, result: Result, options: Options): Promise<Result>
}

/** Declares a step, keeping its types. */
export function defineStep<P, Plan, Result, Options = undefined>(
  step: StepDefinition<P, Plan, Result, Options>,
): StepDefinition<P, Plan, Result, Options> {
  return step
}

/** A request to run a step. */
export interface StepRequest<Options = undefined> {
  /** The step's parameters as given (validated here). */
  parameters: unknown
  /** True (the default): plan only. */
  dryRun?: boolean
  /** The token of the dry run; required to execute. */
  confirmationToken?: string | null
  /** The session the job belongs to. */
  sessionId?: bigint | null
  /** Execution options outside the confirmed parameters (how long a release waits). */
  options?: Options
}

export interface DryRunOutcome<Plan> {
  dryRun: true
  step: string
  jobId: bigint
  plan: Plan
  blocked: Problem[]
  warnings: Problem[]
  /** Shown once; only its sha256 is stored. */
  confirmationToken: string
  expiresAt: Date
}

export interface ExecutionOutcome<Plan, Result> {
  dryRun: false
  step: string
  jobId: bigint
  plan: Plan
  warnings: Problem[]
  result: Result
}

export type StepOutcome<Plan, Result> = DryRunOutcome<Plan> | ExecutionOutcome<Plan, Result>

/**
 * Runs a step: a dry run (the default) or, with the dry run's confirmation token, its execution.
 *
 * @throws InvalidParametersError when the parameters do not hold (nothing is recorded).
 * @throws SessionNotFoundError / SessionClosedError for a session that cannot take the job.
 * @throws ConfirmationError when the two-phase rule refuses the execution (recorded as a job).
 */
export async function runStep<P, Plan, Result, Options>(
  ctx: RolloutContext,
  step: StepDefinition<P, Plan, Result, Options>,
  request: StepRequest<Options>,
): Promise<StepOutcome<Plan, Result>> {
  const params = parseParameters(step.parameters, request.parameters)
  const sessionId = request.sessionId ?? null
  if (sessionId !== null) await requireOpenSession(ctx, sessionId)
  const recorded = toJson(params) as Record<string, unknown>
  if (request.dryRun !== false) return dryRun(ctx, step, params, recorded, sessionId)
  return execute(ctx, step, params, recorded, sessionId, request)
}

async function dryRun<P, Plan, Result, Options>(
  ctx: RolloutContext,
  step: StepDefinition<P, Plan, Result, Options>,
  params: P,
  recorded: Record<string, unknown>,
  sessionId: bigint | null,
): Promise<DryRunOutcome<Plan>> {
  const startedAt = nowOf(ctx)
  const planned = await step.plan(ctx, params)
  const token = `rt_${randomBytes(32).toString('base64url')}`
  const expiresAt = new Date(startedAt.getTime() + (ctx.tokenTtlSec ?? DEFAULT_TOKEN_TTL_SEC) * 1000)
  const blocked = planned.blocked.length > 0
  const jobId = await withTransaction(ctx.db, async (tx) => {
    const id = await recordJob(
      { ...ctx, db: tx },
      {
        sessionId,
        step: step.name,
        dryRun: true,
        parameters: recorded,
        plan: toJson(planned.plan) as Record<string, unknown>,
        outcome: blocked ? 'blocked' : 'planned',
        result: { blocked: planned.blocked, warnings: planned.warnings },
        startedAt,
      },
    )
    await tx.insert(rolloutTokens).values({
      tokenHash: sha256(token),
      jobId: id,
      actor: principalOf(ctx),
      step: step.name,
      parametersHash: hashOf(recorded),
      planHash: planHash(planned),
      blocked,
      expiresAt,
      createdAt: startedAt,
    })
    return id
  })
  await purgeTokens(ctx, startedAt)
  return {
    dryRun: true,
    step: step.name,
    jobId,
    plan: planned.plan,
    blocked: planned.blocked,
    warnings: planned.warnings,
    confirmationToken: token,
    expiresAt,
  }
}

/** A refusal found inside the execution's transaction: recorded once the transaction rolled back. */
class Refusal {
  constructor(
    readonly code: ConfirmationErrorCode,
    readonly message: string,
    readonly plan: unknown = null,
    readonly blocked: Problem[] = [],
  ) {}
}

async function execute<P, Plan, Result, Options>(
  ctx: RolloutContext,
  step: StepDefinition<P, Plan, Result, Options>,
  params: P,
  recorded: Record<string, unknown>,
  sessionId: bigint | null,
  request: StepRequest<Options>,
): Promise<ExecutionOutcome<Plan, Result>> {
  const startedAt = nowOf(ctx)
  const refuse = async (refusal: Refusal): Promise<never> => {
    const jobId = await recordJob(ctx, {
      sessionId,
      step: step.name,
      dryRun: false,
      parameters: recorded,
      plan: refusal.plan === null ? null : (toJson(refusal.plan) as Record<string, unknown>),
      outcome: 'refused',
      errorCode: refusal.code.toLowerCase(),
      result: refusal.blocked.length > 0 ? { blocked: refusal.blocked } : null,
      startedAt,
    })
    throw new ConfirmationError(refusal.code, refusal.message, jobId, refusal.blocked)
  }

  const token = request.confirmationToken ?? null
  if (token === null || token === '') {
    return refuse(
      new Refusal(
        'CONFIRMATION_REQUIRED',
        `executing ${step.name} needs the confirmation_token of a dry run of the same step with the same parameters: run it with dry_run true first`,
      ),
    )
  }
  const [row] = await ctx.db
    .select()
    .from(rolloutTokens)
    .where(eq(rolloutTokens.tokenHash, sha256(token)))
    .limit(1)
  const again = `dry-run ${step.name} again and execute with the new token`
  if (!row) {
    return refuse(new Refusal('CONFIRMATION_MISMATCH', `this confirmation token belongs to no dry run: ${again}`))
  }
  if (row.step !== step.name) {
    return refuse(
      new Refusal(
        'CONFIRMATION_MISMATCH',
        `this confirmation token confirms a ${row.step} dry run, not ${step.name}: ${again}`,
      ),
    )
  }
  if (row.actor !== principalOf(ctx)) {
    return refuse(
      new Refusal(
        'CONFIRMATION_MISMATCH',
        `this confirmation token was issued to another API key: ${again} with the key that executes it`,
      ),
    )
  }
  if (row.parametersHash !== hashOf(recorded)) {
    return refuse(
      new Refusal(
        'CONFIRMATION_MISMATCH',
        `these parameters differ from those of the dry run the token confirms: ${again}, or send the dry run's parameters`,
      ),
    )
  }
  if (row.usedAt !== null) {
    return refuse(
      new Refusal(
        'CONFIRMATION_EXPIRED',
        `this confirmation token was already used at ${row.usedAt.toISOString()}; tokens are single-use: ${again}`,
      ),
    )
  }
  if (row.expiresAt.getTime() <= startedAt.getTime()) {
    return refuse(
      new Refusal(
        'CONFIRMATION_EXPIRED',
        `this confirmation token expired at ${row.expiresAt.toISOString()}: ${again}`,
      ),
    )
  }
  if (row.blocked) {
    const [dry] = await ctx.db
      .select({ result: rolloutJobs.result })
      .from(rolloutJobs)
      .where(eq(rolloutJobs.id, row.jobId))
      .limit(1)
    const blocked = ((dry?.result as { blocked?: Problem[] } | null)?.blocked ?? []) as Problem[]
    return refuse(
      new Refusal(
        'PLAN_BLOCKED',
        `the dry run of ${step.name} had blockers (${blocked.map((b) => b.code).join(', ') || 'see the dry run'}): resolve them, then dry-run again`,
        null,
        blocked,
      ),
    )
  }

  /** Claims the token, plans again and compares: the plan to execute, or a refusal. */
  const claimAndPlan = async (run: RolloutContext): Promise<StepPlan<Plan>> => {
    const claimed = await run.db
      .update(rolloutTokens)
      .set({ usedAt: startedAt })
      .where(
        sql`${rolloutTokens.id} = ${row.id} AND ${rolloutTokens.usedAt} IS NULL AND ${rolloutTokens.expiresAt} > ${startedAt}`,
      )
    if (affectedRows(claimed) !== 1) {
      throw new Refusal(
        'CONFIRMATION_EXPIRED',
        `this confirmation token was used by another execution meanwhile: ${again}`,
      )
    }
    const planned = await step.plan(run, params)
    if (planHash(planned) !== row.planHash) {
      const codes = planned.blocked.map((b) => b.code)
      throw new Refusal(
        'PLAN_CHANGED',
        `the plan of ${step.name} is not the one the dry run showed: the range changed since${codes.length > 0 ? ` (now blocked: ${codes.join(', ')})` : ''}. Dry-run again and review the new plan`,
        planned.plan,
        planned.blocked,
      )
    }
    return planned
  }

  let outcome: { planned: StepPlan<Plan>; result: Result; jobId: bigint | null }
  try {
    if (step.transaction === false) {
      const planned = await claimAndPlan(ctx)
      const result = await step.execute({ ...ctx, jobId: null, sessionId }, params, planned.plan)
      outcome = { planned, result, jobId: null }
    } else {
      outcome = await withTransaction(ctx.db, async (tx) => {
        const run: RolloutContext = { ...ctx, db: tx }
        await serialise(run)
        try {
          const planned = await claimAndPlan(run)
          const jobId = await recordJob(run, {
            sessionId,
            step: step.name,
            dryRun: false,
            parameters: recorded,
            plan: toJson(planned.plan) as Record<string, unknown>,
            outcome: 'applied',
            startedAt,
          })
          const result = await step.execute({ ...run, jobId, sessionId }, params, planned.plan)
          await finishJob(run, jobId, toJson(result) as Record<string, unknown>)
          return { planned, result, jobId }
        } finally {
          await tx.execute(sql`SELECT RELEASE_LOCK(${EXECUTION_LOCK})`)
        }
      })
    }
  } catch (error) {
    if (error instanceof Refusal) return refuse(error)
    throw error
  }

  let { result, jobId } = outcome
  if (jobId === null) {
    jobId = await recordJob(ctx, {
      sessionId,
      step: step.name,
      dryRun: false,
      parameters: recorded,
      plan: toJson(outcome.planned.plan) as Record<string, unknown>,
      outcome: 'applied',
      result: toJson(result) as Record<string, unknown>,
      startedAt,
    })
  }
  if (step.settle) {
    result = await step.settle({ ...ctx, jobId, sessionId }, params, result, request.options as Options)
    await finishJob(ctx, jobId, toJson(result) as Record<string, unknown>)
  }
  return {
    dryRun: false,
    step: step.name,
    jobId,
    plan: outcome.planned.plan,
    warnings: outcome.planned.warnings,
    result,
  }
}

/** How long a token row outlives its expiry (so a late execution still hears "expired"), and rows purged per dry run. */
const TOKEN_KEEP_MS = 86_400_000
const TOKEN_PURGE_BATCH = 1000

/** Deletes token rows that expired more than a day ago, a bounded batch at a time, along `idx_expires`. */
async function purgeTokens(ctx: RolloutContext, now: Date): Promise<void> {
  const before = new Date(now.getTime() - TOKEN_KEEP_MS)
  await ctx.db.execute(
    sql`DELETE FROM ${rolloutTokens} WHERE ${rolloutTokens.expiresAt} < ${before} ORDER BY ${rolloutTokens.expiresAt} LIMIT ${TOKEN_PURGE_BATCH}`,
  )
}

/** Advisory lock held by every transactional execution, so that two never plan on the same state. */
const EXECUTION_LOCK = 'jetmon_rollout_execute'
const EXECUTION_LOCK_WAIT_SEC = 30

async function serialise(run: RolloutContext): Promise<void> {
  const [rows] = (await run.db.execute(
    sql`SELECT GET_LOCK(${EXECUTION_LOCK}, ${EXECUTION_LOCK_WAIT_SEC}) AS got`,
  )) as unknown as [{ got: number | null }[]]
  if (Number(rows[0]?.got) !== 1) {
    throw new Error(`another rollout execution held ${EXECUTION_LOCK} for ${EXECUTION_LOCK_WAIT_SEC} s`)
  }
}

/** @throws SessionNotFoundError, SessionClosedError */
export async function requireOpenSession(ctx: RolloutContext, id: bigint): Promise<void> {
  const [session] = await ctx.db
    .select({ state: rolloutSessions.state })
    .from(rolloutSessions)
    .where(eq(rolloutSessions.id, id))
    .limit(1)
  if (!session) throw new SessionNotFoundError(id)
  if (session.state === 'closed') throw new SessionClosedError(id)
}

/** Validates parameters with `schema`; @throws InvalidParametersError with one issue per path. */
export function parseParameters<P>(schema: v.GenericSchema<unknown, P>, input: unknown): P {
  const parsed = v.safeParse(schema, input ?? {})
  if (parsed.success) return parsed.output
  const seen = new Set<string>()
  const issues = []
  for (const issue of parsed.issues) {
    const path = v.getDotPath(issue) ?? ''
    // One problem per path: the first is the one to fix.
    if (seen.has(path)) continue
    seen.add(path)
    issues.push({ path, message: issue.message })
  }
  throw new InvalidParametersError(issues)
}

function nowOf(ctx: RolloutContext): Date {
  return (ctx.clock ?? (() => new Date()))()
}

function principalOf(ctx: RolloutContext): string {
  return ctx.principal ?? ctx.actor
}

function affectedRows(result: unknown): number {
  const header = Array.isArray(result) ? result[0] : result
  return Number((header as { affectedRows?: number } | undefined)?.affectedRows ?? 0)
}

/** The plan's hash: the plan and the codes of its blockers (messages may name times and ages). */
function planHash(planned: StepPlan<unknown>): string {
  return hashOf({ plan: planned.plan, blocked: planned.blocked.map((b) => b.code).sort() })
}

/** sha256 hex of a value's canonical JSON. */
export function hashOf(value: unknown): string {
  return sha256(canonicalJson(value))
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** JSON with object keys sorted at every level, bigints as decimal strings and dates in ISO form. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(toJson(value)))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    )
  }
  return value
}

/** A value as plain JSON data: bigints become decimal strings, dates ISO strings, undefined fields vanish. */
export function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item)) ?? 'null',
  )
}
