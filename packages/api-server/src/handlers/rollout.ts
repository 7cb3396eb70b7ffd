/**
 * The rollout control plane's routes over @jetmon/rollout: capabilities, status, sessions, the
 * two-phase steps and the reconcile gate. The library's refusals become the API's codes: 409
 * `confirmation_required` / `confirmation_mismatch` / `confirmation_expired` / `plan_changed`,
 * 422 `plan_blocked`, 404 `session_not_found` / `policy_stage_not_found`, 409 `session_closed`.
 */
import { jsonId, type rolloutRoutes } from '@jetmon/api-client'
import {
  activateRange,
  adoptRange,
  applyPolicyStage,
  createSession,
  getSessionWithJobs,
  InvalidParametersError,
  isRolloutError,
  listPolicyStages,
  listSessions,
  type PolicyStage,
  pauseSession,
  type RolloutContext,
  type RolloutJob,
  type RolloutSession,
  type RolloutStatus,
  reconcileRange,
  releaseRange,
  resumeSession,
  rollbackAllPolicyStages,
  rollbackPolicyStage,
  rolloutCapabilities,
  rolloutStatus,
  type StepOutcome,
  type StepRequest,
} from '@jetmon/rollout'
import type { Handlers, Principal, RequestContext } from '../context.js'
import { Reply } from '../context.js'
import { ApiError, invalidRequest } from '../errors.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'

type AnyContext = Pick<RequestContext<never>, 'deps' | 'source'> & { principal: Principal }

/** The library's context for this request: the caller as actor, its key as the token's owner. */
function rolloutContext({ deps, source, principal }: AnyContext): RolloutContext {
  return {
    db: deps.db,
    clock: deps.now ?? (() => new Date()),
    actor: source,
    principal: `key:${principal.keyId}`,
    logger: deps.logger,
    ...(deps.bucketTotal === undefined ? {} : { bucketTotal: deps.bucketTotal }),
    ...(deps.checkPolicyDefaults ? { checkPolicyDefaults: deps.checkPolicyDefaults } : {}),
    ...deps.rollout,
  }
}

/** Maps the library's refusals to API answers; anything else goes on as it is. */
async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof InvalidParametersError) throw invalidRequest([...error.issues])
    if (isRolloutError(error)) {
      switch (error.code) {
        case 'CONFIRMATION_REQUIRED':
        case 'CONFIRMATION_MISMATCH':
        case 'CONFIRMATION_EXPIRED':
        case 'PLAN_CHANGED':
        case 'PLAN_BLOCKED': {
          const blocked = 'blocked' in error ? (error.blocked as { code: string; message: string }[]) : []
          throw new ApiError(error.code === 'PLAN_BLOCKED' ? 422 : 409, error.code.toLowerCase(), error.message, {
            ...(blocked.length > 0
              ? { details: blocked.map((b) => ({ path: `blocked.${b.code}`, message: b.message })) }
              : {}),
          })
        }
        case 'SESSION_NOT_FOUND':
          throw new ApiError(404, 'session_not_found', error.message)
        case 'SESSION_CLOSED':
          throw new ApiError(409, 'session_closed', error.message)
        case 'STAGE_NOT_FOUND':
          throw new ApiError(404, 'policy_stage_not_found', error.message)
        case 'INVALID_PARAMETERS':
          throw new ApiError(400, 'invalid_request', error.message)
      }
    }
    throw error
  }
}

/** Plain JSON with ids in their wire form (numbers up to 2^53, strings beyond) and ISO times. */
function wire(value: unknown): unknown {
  if (typeof value === 'bigint') return jsonId(value)
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map(wire)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, wire(item)]))
  }
  return value
}

function record(value: unknown): Record<string, unknown> {
  return wire(toJsonKeepingIds(value)) as Record<string, unknown>
}

/** Drops undefined fields the way JSON does, keeping bigints and dates for {@link wire}. */
function toJsonKeepingIds(value: unknown): unknown {
  if (value === undefined) return null
  if (Array.isArray(value)) return value.map(toJsonKeepingIds)
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, item]) => item !== undefined)
        .map(([key, item]) => [key, toJsonKeepingIds(item)]),
    )
  }
  return value
}

function stepAnswer(outcome: StepOutcome<unknown, unknown>) {
  if (outcome.dryRun) {
    return {
      dry_run: true,
      step: outcome.step,
      job_id: jsonId(outcome.jobId),
      plan: record(outcome.plan),
      blocked: outcome.blocked,
      warnings: outcome.warnings,
      confirmation_token: outcome.confirmationToken,
      expires_at: outcome.expiresAt.toISOString(),
      result: null,
    }
  }
  return {
    dry_run: false,
    step: outcome.step,
    job_id: jsonId(outcome.jobId),
    plan: record(outcome.plan),
    blocked: [],
    warnings: outcome.warnings,
    confirmation_token: null,
    expires_at: null,
    result: record(outcome.result),
  }
}

/** The two-phase fields of a body, and the step's own parameters (everything else). */
function twoPhase<
  B extends { dry_run: boolean; confirmation_token?: string | undefined; session_id?: bigint | undefined },
>(body: B): StepRequest & { parameters: Omit<B, 'dry_run' | 'confirmation_token' | 'session_id'> } {
  const { dry_run, confirmation_token, session_id, ...parameters } = body
  return {
    parameters,
    dryRun: dry_run,
    confirmationToken: confirmation_token ?? null,
    sessionId: session_id ?? null,
  }
}

function sessionJson(session: RolloutSession) {
  return {
    id: jsonId(session.id),
    name: session.name,
    bucket_min: session.bucketMin,
    bucket_max: session.bucketMax,
    state: session.state,
    created_by: session.createdBy,
    created_at: session.createdAt.toISOString(),
    updated_at: session.updatedAt.toISOString(),
  }
}

function jobJson(job: RolloutJob) {
  return {
    id: jsonId(job.id),
    session_id: job.sessionId === null ? null : jsonId(job.sessionId),
    step: job.step,
    dry_run: job.dryRun,
    parameters: job.parameters,
    plan: job.plan,
    outcome: job.outcome,
    error_code: job.errorCode,
    result: job.result,
    actor: job.actor,
    started_at: job.startedAt.toISOString(),
    finished_at: job.finishedAt?.toISOString() ?? null,
  }
}

function stageJson(stage: PolicyStage) {
  return {
    id: jsonId(stage.id),
    session_id: stage.sessionId === null ? null : jsonId(stage.sessionId),
    job_id: jsonId(stage.jobId),
    bucket_min: stage.bucketMin,
    bucket_max: stage.bucketMax,
    from: stage.from,
    to: stage.to,
    size: stage.size,
    moved: stage.moved,
    restored: stage.restored,
    state: stage.state,
    created_at: stage.createdAt.toISOString(),
    rolled_back_at: stage.rolledBackAt?.toISOString() ?? null,
  }
}

function statusJson(status: RolloutStatus) {
  return {
    generated_at: status.generatedAt.toISOString(),
    bucket_total: status.bucketTotal,
    ranges: status.ranges.map((range) => {
      const owner = range.owner
      return {
        bucket_min: range.bucketMin,
        bucket_max: range.bucketMax,
        owner:
          owner.kind === 'lock'
            ? { kind: owner.kind, lock_id: jsonId(owner.lockId), host_id: owner.hostId, phase: owner.phase }
            : owner.kind === 'pinned'
              ? { kind: owner.kind, host_id: owner.hostId }
              : owner.kind === 'dynamic'
                ? { kind: owner.kind, host_ids: owner.hostIds }
                : { kind: owner.kind },
        in_transition: range.inTransition,
        endpoints: range.endpoints,
        checked_recently: range.checkedRecently,
        freshness: range.freshness,
      }
    }),
    hosts: status.hosts.map((host) => ({
      host_id: host.hostId,
      mode: host.mode,
      pinned: host.pinned,
      bucket_min: host.bucketMin,
      bucket_max: host.bucketMax,
      status: host.status,
      heartbeat_at: host.heartbeatAt.toISOString(),
      lease_expires_at: host.leaseExpiresAt.toISOString(),
      live: host.live,
      version: host.version,
    })),
    locks: status.locks.map((lock) => ({
      id: jsonId(lock.id),
      bucket_min: lock.bucketMin,
      bucket_max: lock.bucketMax,
      host_id: lock.hostId,
      state: lock.state,
      phase: lock.phase,
      session_id: lock.sessionId === null ? null : jsonId(lock.sessionId),
      activated_at: lock.activatedAt.toISOString(),
      acknowledged_at: lock.acknowledgedAt?.toISOString() ?? null,
      release_requested_at: lock.releaseRequestedAt?.toISOString() ?? null,
      released_at: lock.releasedAt?.toISOString() ?? null,
    })),
    drift: status.drift,
  }
}

export const rolloutHandlers: Handlers<typeof rolloutRoutes> = {
  async 'rollout.capabilities'(request) {
    const caps = rolloutCapabilities(rolloutContext(request))
    return {
      api_version: caps.apiVersion,
      modes: [...caps.modes],
      token_ttl_sec: caps.tokenTtlSec,
      bucket_total: caps.bucketTotal,
      sample: caps.sampleLimits,
      release_wait_sec: caps.releaseWaitSec,
      reconcile_offender_limit: caps.reconcileOffenderLimit,
      freshness_window_sec: caps.freshnessWindowSec,
      two_phase_steps: [...caps.twoPhaseSteps],
    }
  },

  async 'rollout.status'(request) {
    return statusJson(await rolloutStatus(rolloutContext(request)))
  },

  async 'rollout.createSession'(request) {
    const session = await answer(() => createSession(rolloutContext(request), request.body))
    return new Reply(sessionJson(session), 201)
  },

  async 'rollout.listSessions'({ deps, query }) {
    const limit = query.limit ?? DEFAULT_LIMIT
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ['id'])[0]
    const rows = await listSessions(
      { db: deps.db },
      { limit: limit + 1, ...(before === undefined ? {} : { before }), ...(query.state ? { state: query.state } : {}) },
    )
    return pageOf(rows, limit, sessionJson, (row) => [row.id.toString()])
  },

  async 'rollout.getSession'({ deps, params, query }) {
    const found = await getSessionWithJobs({ db: deps.db }, params.id, {
      ...(query.jobs_limit === undefined ? {} : { jobsLimit: query.jobs_limit }),
    })
    if (!found) throw new ApiError(404, 'session_not_found', `rollout session ${params.id} not found`)
    return { ...sessionJson(found.session), jobs: found.jobs.map(jobJson) }
  },

  async 'rollout.pauseSession'(request) {
    return sessionJson(await answer(() => pauseSession(rolloutContext(request), request.params.id)))
  },

  async 'rollout.resumeSession'(request) {
    return sessionJson(await answer(() => resumeSession(rolloutContext(request), request.params.id)))
  },

  async 'rollout.adopt'(request) {
    return stepAnswer(await answer(() => adoptRange(rolloutContext(request), twoPhase(request.body))))
  },

  async 'rollout.activate'(request) {
    return stepAnswer(await answer(() => activateRange(rolloutContext(request), twoPhase(request.body))))
  },

  async 'rollout.release'(request) {
    const { wait_sec, ...body } = request.body
    const step = twoPhase(body)
    return stepAnswer(
      await answer(() =>
        releaseRange(rolloutContext(request), {
          ...step,
          ...(wait_sec === undefined ? {} : { options: { waitSec: wait_sec } }),
        }),
      ),
    )
  },

  async 'rollout.reconcile'(request) {
    const { session_id, since, ...range } = request.body
    const report = await answer(() =>
      reconcileRange(rolloutContext(request), {
        parameters: { ...range, ...(since ? { since: since.toISOString() } : {}) },
        sessionId: session_id ?? null,
      }),
    )
    return record(report) as never
  },

  async 'rollout.createPolicyStage'(request) {
    return stepAnswer(await answer(() => applyPolicyStage(rolloutContext(request), twoPhase(request.body))))
  },

  async 'rollout.listPolicyStages'({ deps, query }) {
    const limit = query.limit ?? DEFAULT_LIMIT
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ['id'])[0]
    const rows = await listPolicyStages(
      { db: deps.db },
      {
        limit: limit + 1,
        ...(before === undefined ? {} : { before }),
        ...(query.bucket_min === undefined ? {} : { bucketMin: query.bucket_min }),
        ...(query.bucket_max === undefined ? {} : { bucketMax: query.bucket_max }),
        ...(query.session_id === undefined ? {} : { sessionId: query.session_id }),
      },
    )
    return pageOf(rows, limit, stageJson, (row) => [row.id.toString()])
  },

  async 'rollout.rollbackPolicyStage'(request) {
    const step = twoPhase(request.body)
    return stepAnswer(
      await answer(() =>
        rollbackPolicyStage(rolloutContext(request), {
          ...step,
          parameters: { stage_id: request.params.id.toString() },
        }),
      ),
    )
  },

  async 'rollout.rollbackAllPolicyStages'(request) {
    return stepAnswer(await answer(() => rollbackAllPolicyStages(rolloutContext(request), twoPhase(request.body))))
  },
}
