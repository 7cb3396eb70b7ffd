/**
 * Handing a range over between v1 and Jetmon 2: `activate` gives it to an `api-controlled` host
 * through a lock row, `release` asks the host to drain it (the rollback to v1), and `reconcile` is
 * the gate after a handoff.
 */
import { endpointState, monitorSites, rolloutJobs, rolloutLocks } from '@jetmon/db'
import { and, asc, between, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import * as v from 'valibot'
import { RangeEntries, rangeChecked, rangeText } from './_params.js'
import type { Problem } from './errors.js'
import { type RolloutContext, recordJob } from './jobs.js'
import {
  countDrift,
  coveringLocks,
  DEFAULT_BUCKET_TOTAL,
  FRESHNESS_WINDOW_MS,
  type LockPhase,
  listHosts,
  lockOf,
  lockPhase,
  overlaps,
} from './ownership.js'
import {
  defineStep,
  parseParameters,
  requireOpenSession,
  runStep,
  type StepOutcome,
  type StepRequest,
  toJson,
} from './two-phase.js'

const HostId = v.pipe(
  v.string('must be a host id'),
  v.minLength(1, 'must not be empty'),
  v.maxLength(255, 'must be at most 255 characters'),
)

export const ActivateParameters = rangeChecked(v.strictObject({ ...RangeEntries, host_id: HostId }))
export type ActivateParameters = v.InferOutput<typeof ActivateParameters>

export interface ActivatePlan {
  bucket_min: number
  bucket_max: number
  host_id: string
}

/** Which applied adoptions cover the range: the buckets no `adopt` execution took over yet. */
async function unadoptedBuckets(ctx: RolloutContext, range: { min: number; max: number }): Promise<number> {
  const jobs = await ctx.db
    .select({ parameters: rolloutJobs.parameters })
    .from(rolloutJobs)
    .where(and(eq(rolloutJobs.step, 'adopt'), eq(rolloutJobs.outcome, 'applied'), eq(rolloutJobs.dryRun, false)))
  const covered = new Set<number>()
  for (const job of jobs) {
    const min = Number(job.parameters.bucket_min)
    const max = Number(job.parameters.bucket_max)
    if (!Number.isInteger(min) || !Number.isInteger(max)) continue
    for (let bucket = Math.max(min, range.min); bucket <= Math.min(max, range.max); bucket++) covered.add(bucket)
  }
  return range.max - range.min + 1 - covered.size
}

/**
 * `activate {bucket_min, bucket_max, host_id}`: hands the range to an `api-controlled` host by
 * inserting an `active` lock for it; the host loads and checks the range within one poll and
 * acknowledges. Blocked unless the host is registered in `api-controlled` mode with a live lease
 * and no lock, pinned host or dynamic host covers any bucket of the range. Warns when no adoption
 * was executed for (part of) the range.
 */
export const activateStep = defineStep({
  name: 'activate',
  parameters: ActivateParameters,
  async plan(ctx, params) {
    const now = (ctx.clock ?? (() => new Date()))()
    const range = { min: params.bucket_min, max: params.bucket_max }
    const bucketTotal = ctx.bucketTotal ?? DEFAULT_BUCKET_TOTAL
    const blocked: Problem[] = []
    const warnings: Problem[] = []
    if (range.max >= bucketTotal) {
      blocked.push({
        code: 'range_out_of_bounds',
        message: `buckets are numbered 0–${bucketTotal - 1} (BUCKET_TOTAL ${bucketTotal}); ${rangeText(params)} reaches beyond`,
      })
    }
    const [hostList, locks] = await Promise.all([listHosts(ctx, now), coveringLocks(ctx)])
    const host = hostList.find((h) => h.hostId === params.host_id)
    if (!host) {
      blocked.push({
        code: 'host_not_registered',
        message: `no monitor host ${params.host_id} is registered: start it with ROLLOUT_MODE=api-controlled and HOST_ID=${params.host_id}`,
      })
    } else {
      if (host.mode !== 'api-controlled') {
        blocked.push({
          code: 'host_not_api_controlled',
          message: `host ${host.hostId} runs in ROLLOUT_MODE=${host.mode}; only an api-controlled host takes activated ranges`,
        })
      }
      if (!host.live) {
        blocked.push({
          code: 'host_not_fresh',
          message: `host ${host.hostId} has no live lease (last heartbeat ${host.heartbeatAt.toISOString()}, status ${host.status}): check that it runs and reaches the database`,
        })
      }
    }
    for (const lock of locks) {
      if (!overlaps(range, { min: lock.bucketMin, max: lock.bucketMax })) continue
      blocked.push({
        code: 'range_locked',
        message: `lock ${lock.id} (${lock.bucketMin}–${lock.bucketMax}, host ${lock.hostId}, ${lockPhase(lock)}) covers part of ${rangeText(params)}`,
      })
    }
    for (const other of hostList) {
      if (!other.live || other.mode !== 'active') continue
      if (other.pinned) {
        if (other.bucketMin === null || other.bucketMax === null) continue
        if (!overlaps(range, { min: other.bucketMin, max: other.bucketMax })) continue
        blocked.push({
          code: 'range_pinned',
          message: `pinned host ${other.hostId} owns ${other.bucketMin}–${other.bucketMax}, which overlaps ${rangeText(params)}`,
        })
      } else {
        blocked.push({
          code: 'range_dynamic_owner',
          message: `dynamic host ${other.hostId} shares out every bucket no lock or pin covers, ${rangeText(params)} included: stop it or pin it elsewhere first`,
        })
      }
    }
    const unadopted = await unadoptedBuckets(ctx, range)
    if (unadopted > 0) {
      warnings.push({
        code: 'adoption_not_run',
        message: `no adoption was executed for ${unadopted} bucket(s) of ${rangeText(params)}: sites v1 knows are down would be reported again (run adopt first)`,
      })
    }
    return {
      plan: { bucket_min: params.bucket_min, bucket_max: params.bucket_max, host_id: params.host_id },
      blocked,
      warnings,
    }
  },
  async execute(ctx, params) {
    const now = (ctx.clock ?? (() => new Date()))()
    const [header] = await ctx.db.insert(rolloutLocks).values({
      bucketMin: params.bucket_min,
      bucketMax: params.bucket_max,
      hostId: params.host_id,
      state: 'active',
      sessionId: ctx.sessionId,
      jobId: ctx.jobId,
      activatedAt: now,
      createdBy: ctx.actor,
    })
    return { lock_id: BigInt(header.insertId), activated_at: now }
  },
})

/** `activate`, dry run or execution (see {@link activateStep}). */
export function activateRange(ctx: RolloutContext, request: StepRequest) {
  return runStep(ctx, activateStep, request)
}

export const ReleaseParameters = rangeChecked(v.strictObject({ ...RangeEntries }))
export type ReleaseParameters = v.InferOutput<typeof ReleaseParameters>

export interface ReleasePlan {
  bucket_min: number
  bucket_max: number
  locks: { lock_id: bigint; host_id: string; bucket_min: number; bucket_max: number; state: string }[]
}

/** How long an execution of `release` waits for the host's acknowledgement. */
export const RELEASE_WAIT = { defaultSec: 20, maxSec: 300, pollMs: 500 } as const

export interface ReleaseOptions {
  /** Seconds to wait for the acknowledgement (default 20, at most 300; 0: do not wait). */
  waitSec?: number
}

export interface ReleaseResult {
  lock_ids: bigint[]
  /** Every lock of the release reached `released` within the wait. */
  acknowledged: boolean
  waited_ms: number
  locks: { lock_id: bigint; host_id: string; state: string; released_at: Date | null }[]
}

/**
 * `release {bucket_min, bucket_max}`: the rollback to v1. Sets the locks of the range to
 * `releasing`; their host stops new checks, drains and acknowledges with `released`. The execution
 * waits up to `waitSec` for that and says whether it came. Blocked when no lock covers the range,
 * or a lock reaches beyond it (release the lock's whole range).
 */
export const releaseStep = defineStep({
  name: 'release',
  parameters: ReleaseParameters,
  async plan(ctx, params) {
    const range = { min: params.bucket_min, max: params.bucket_max }
    const locks = (await coveringLocks(ctx)).filter((lock) =>
      overlaps(range, { min: lock.bucketMin, max: lock.bucketMax }),
    )
    const blocked: Problem[] = []
    if (locks.length === 0) {
      blocked.push({
        code: 'nothing_to_release',
        message: `no lock covers ${rangeText(params)}: Jetmon 2 does not own it through the control plane (see status)`,
      })
    }
    for (const lock of locks) {
      if (lock.bucketMin < range.min || lock.bucketMax > range.max) {
        blocked.push({
          code: 'lock_exceeds_range',
          message: `lock ${lock.id} covers ${lock.bucketMin}–${lock.bucketMax}, beyond ${rangeText(params)}: release ${lock.bucketMin}–${lock.bucketMax} whole`,
        })
      }
    }
    const warnings: Problem[] = locks
      .filter((lock) => lock.state === 'releasing')
      .map((lock) => ({
        code: 'already_releasing',
        message: `lock ${lock.id} (host ${lock.hostId}) is already releasing since ${lock.releaseRequestedAt?.toISOString() ?? 'an unknown time'}`,
      }))
    return {
      plan: {
        bucket_min: params.bucket_min,
        bucket_max: params.bucket_max,
        locks: locks.map((lock) => ({
          lock_id: lock.id,
          host_id: lock.hostId,
          bucket_min: lock.bucketMin,
          bucket_max: lock.bucketMax,
          state: lock.state,
        })),
      } satisfies ReleasePlan,
      blocked,
      warnings,
    }
  },
  async execute(ctx, _params, plan): Promise<ReleaseResult> {
    const now = (ctx.clock ?? (() => new Date()))()
    const ids = plan.locks.map((lock) => lock.lock_id)
    await ctx.db
      .update(rolloutLocks)
      .set({ state: 'releasing', releaseRequestedAt: now })
      .where(and(inArray(rolloutLocks.id, ids), eq(rolloutLocks.state, 'active')))
    return { lock_ids: ids, acknowledged: false, waited_ms: 0, locks: [] }
  },
  async settle(ctx, _params, result, options: ReleaseOptions | undefined): Promise<ReleaseResult> {
    const clock = ctx.clock ?? (() => new Date())
    const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
    const waitMs = Math.min(Math.max(options?.waitSec ?? RELEASE_WAIT.defaultSec, 0), RELEASE_WAIT.maxSec) * 1000
    const started = clock().getTime()
    for (;;) {
      const rows = await ctx.db.select().from(rolloutLocks).where(inArray(rolloutLocks.id, result.lock_ids))
      const locks = rows.map(lockOf)
      const acknowledged = locks.every((lock) => lock.state === 'released')
      const waited = clock().getTime() - started
      if (acknowledged || waited >= waitMs) {
        return {
          lock_ids: result.lock_ids,
          acknowledged,
          waited_ms: waited,
          locks: locks.map((lock) => ({
            lock_id: lock.id,
            host_id: lock.hostId,
            state: lock.state,
            released_at: lock.releasedAt,
          })),
        }
      }
      await sleep(Math.min(RELEASE_WAIT.pollMs, waitMs - waited))
    }
  },
})

/** `release`, dry run or execution (see {@link releaseStep}). */
export function releaseRange(
  ctx: RolloutContext,
  request: StepRequest<ReleaseOptions>,
): Promise<StepOutcome<ReleasePlan, ReleaseResult>> {
  return runStep(ctx, releaseStep, request) as Promise<StepOutcome<ReleasePlan, ReleaseResult>>
}

/** Offenders a reconcile lists at most. */
export const RECONCILE_OFFENDER_LIMIT = 100

export const ReconcileParameters = rangeChecked(
  v.strictObject({
    ...RangeEntries,
    since: v.optional(v.pipe(v.string('must be a timestamp'), v.isoTimestamp('must be an RFC 3339 timestamp'))),
  }),
)

export interface ReconcileOffender {
  endpoint_id: bigint
  reason: 'not_checked' | 'projection_drift'
  blog_id?: bigint
  bucket_no?: number
  last_checked_at?: Date | null
  site_status?: number
  expected_status?: number
}

export interface ReconcileReport {
  job_id: bigint
  passed: boolean
  bucket_min: number
  bucket_max: number
  since: Date
  /** Active endpoints of the range, and how many were not checked since `since`. */
  endpoints: number
  unchecked: number
  drift: { count: number; capped: boolean }
  locks_in_transition: { lock_id: bigint; host_id: string; bucket_min: number; bucket_max: number; phase: LockPhase }[]
  /** Up to 100: unchecked endpoints first (lowest id first), then drifting ones. */
  offenders: ReconcileOffender[]
}

/**
 * `reconcile {bucket_min, bucket_max, since?}`: the gate after a handoff. Passes when every active
 * endpoint of the range was checked since `since` (default 15 minutes ago), no active endpoint's
 * legacy `site_status` disagrees with its open events, and no lock of the range is in transition.
 * Changes nothing; recorded as a `reconcile` job (`planned` when it passed, `blocked` when not).
 */
export async function reconcileRange(
  ctx: RolloutContext,
  input: { parameters: unknown; sessionId?: bigint | null },
): Promise<ReconcileReport> {
  const params = parseParameters(ReconcileParameters, input.parameters)
  if (input.sessionId != null) await requireOpenSession(ctx, input.sessionId)
  const startedAt = (ctx.clock ?? (() => new Date()))()
  const since = params.since ? new Date(params.since) : new Date(startedAt.getTime() - FRESHNESS_WINDOW_MS)
  const range = { min: params.bucket_min, max: params.bucket_max }
  const stale = and(
    eq(monitorSites.monitorActive, 1),
    between(monitorSites.bucketNo, range.min, range.max),
    or(isNull(endpointState.lastCheckedAt), lt(endpointState.lastCheckedAt, since)),
  )
  const [counts, unchecked, drift, locks] = await Promise.all([
    ctx.db
      .select({
        endpoints: sql<number>`COUNT(*)`.mapWith(Number),
        unchecked:
          sql<number>`COALESCE(SUM(${endpointState.lastCheckedAt} IS NULL OR ${endpointState.lastCheckedAt} < ${since}), 0)`.mapWith(
            Number,
          ),
      })
      .from(monitorSites)
      .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
      .where(and(eq(monitorSites.monitorActive, 1), between(monitorSites.bucketNo, range.min, range.max))),
    ctx.db
      .select({
        endpointId: monitorSites.endpointId,
        blogId: monitorSites.blogId,
        bucketNo: monitorSites.bucketNo,
        lastCheckedAt: endpointState.lastCheckedAt,
      })
      .from(monitorSites)
      .leftJoin(endpointState, eq(endpointState.endpointId, monitorSites.endpointId))
      .where(stale)
      .orderBy(asc(monitorSites.endpointId))
      .limit(RECONCILE_OFFENDER_LIMIT),
    countDrift(ctx, range, RECONCILE_OFFENDER_LIMIT),
    coveringLocks(ctx),
  ])
  const inTransition = locks
    .filter((lock) => overlaps(range, { min: lock.bucketMin, max: lock.bucketMax }))
    .map((lock) => ({ lock, phase: lockPhase(lock) }))
    .filter(({ phase }) => phase === 'activating' || phase === 'releasing')
  const offenders: ReconcileOffender[] = unchecked.map((row) => ({
    endpoint_id: row.endpointId,
    reason: 'not_checked' as const,
    blog_id: row.blogId,
    bucket_no: row.bucketNo,
    last_checked_at: row.lastCheckedAt,
  }))
  for (const item of drift.examples) {
    if (offenders.length >= RECONCILE_OFFENDER_LIMIT) break
    offenders.push({
      endpoint_id: item.endpointId,
      reason: 'projection_drift',
      site_status: item.siteStatus,
      expected_status: item.expectedStatus,
    })
  }
  const total = counts[0] ?? { endpoints: 0, unchecked: 0 }
  const passed = total.unchecked === 0 && drift.count === 0 && inTransition.length === 0
  const report: Omit<ReconcileReport, 'job_id'> = {
    passed,
    bucket_min: range.min,
    bucket_max: range.max,
    since,
    endpoints: total.endpoints,
    unchecked: total.unchecked,
    drift: { count: drift.count, capped: drift.capped },
    locks_in_transition: inTransition.map(({ lock, phase }) => ({
      lock_id: lock.id,
      host_id: lock.hostId,
      bucket_min: lock.bucketMin,
      bucket_max: lock.bucketMax,
      phase,
    })),
    offenders,
  }
  const jobId = await recordJob(ctx, {
    sessionId: input.sessionId ?? null,
    step: 'reconcile',
    dryRun: true,
    parameters: toJson(params) as Record<string, unknown>,
    outcome: passed ? 'planned' : 'blocked',
    result: toJson(report) as Record<string, unknown>,
    startedAt,
  })
  return { job_id: jobId, ...report }
}
