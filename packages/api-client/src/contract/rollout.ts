/**
 * The rollout control plane (docs/rollout.md): capabilities, the ownership status, sessions, and
 * the steps that move a bucket range between v1 and Jetmon 2 — adopt, activate, release, policy
 * stages and their rollbacks — each in two phases, plus the reconcile gate. Admin scope.
 *
 * Two phases: `"dry_run": true` (the default) changes nothing and answers the plan, its blockers,
 * warnings and a single-use `confirmation_token`; `"dry_run": false` with that token executes. An
 * execution is refused with 409 `confirmation_required`, `confirmation_mismatch`,
 * `confirmation_expired` or `plan_changed`, or 422 `plan_blocked`.
 */
import { DETECTION_PROFILES, REQUEST_METHODS } from '@jetmon/vocabulary'
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { Id, IdInput, IdParam, integerParam, listOf, PageQuery, Timestamp, TimestampInput } from './schema.js'

const Bucket = v.pipe(
  v.number('must be a bucket number'),
  v.safeInteger('must be a whole number'),
  v.minValue(0, 'must be at least 0'),
  v.maxValue(65_535, 'must be at most 65535'),
)
const RequestMethod = v.picklist(REQUEST_METHODS, `must be one of ${REQUEST_METHODS.join(', ')}`)
const DetectionProfile = v.picklist(DETECTION_PROFILES, `must be one of ${DETECTION_PROFILES.join(', ')}`)
const PolicyInput = v.strictObject({ method: RequestMethod, profile: DetectionProfile })
const HostId = v.pipe(v.string('must be a host id'), v.minLength(1, 'must not be empty'), v.maxLength(255))

/** `bucket_max` must not be below `bucket_min` (reported on `bucket_max`). */
function rangeInOrder<T extends { bucket_min: number; bucket_max: number }>() {
  return v.forward(
    v.check<T, string>((body) => body.bucket_min <= body.bucket_max, 'must not be below bucket_min'),
    ['bucket_max'] as never,
  )
}

const Range = { bucket_min: Bucket, bucket_max: Bucket }

/** The fields of every two-phase request besides the step's own parameters. */
const TwoPhaseEntries = {
  dry_run: v.optional(
    v.pipe(
      v.boolean('must be true or false'),
      v.description('True (the default): change nothing, answer the plan and a confirmation token.'),
    ),
    true,
  ),
  confirmation_token: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(128),
      v.description('The token of the dry run of this step with these parameters, by this key; required to execute.'),
    ),
  ),
  session_id: v.optional(v.pipe(IdInput, v.description('The rollout session the job belongs to.'))),
}

export const RolloutProblem = v.object({ code: v.string(), message: v.string() })

/** The answer of a two-phase step. */
export const RolloutStepAnswer = v.object({
  dry_run: v.boolean(),
  step: v.string(),
  job_id: Id,
  plan: v.pipe(v.record(v.string(), v.unknown()), v.description('What the execution does (or did).')),
  blocked: v.pipe(v.array(RolloutProblem), v.description('Why the step cannot be executed (dry run only).')),
  warnings: v.array(RolloutProblem),
  confirmation_token: v.pipe(
    v.nullable(v.string()),
    v.description('Dry run: the single-use token to execute this plan, shown once. Null on an execution.'),
  ),
  expires_at: v.pipe(v.nullable(Timestamp), v.description('When the token expires (dry run).')),
  result: v.pipe(
    v.nullable(v.record(v.string(), v.unknown())),
    v.description('Execution: what was done. Null on a dry run.'),
  ),
})
export type RolloutStepAnswer = v.InferOutput<typeof RolloutStepAnswer>

const CONFIRMATION_ERRORS = [
  'confirmation_required',
  'confirmation_mismatch',
  'confirmation_expired',
  'plan_blocked',
  'plan_changed',
  'session_not_found',
  'session_closed',
] as const

export const getRolloutCapabilities = defineRoute({
  method: 'GET',
  path: '/rollout/capabilities',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Rollout modes, confirmation token lifetime, BUCKET_TOTAL, sample and wait limits, API version',
  status: 200,
  response: v.object({
    api_version: v.string(),
    modes: v.array(v.string()),
    token_ttl_sec: v.number(),
    bucket_total: v.number(),
    sample: v.object({ default: v.number(), max: v.number() }),
    release_wait_sec: v.object({ default: v.number(), max: v.number() }),
    reconcile_offender_limit: v.number(),
    freshness_window_sec: v.number(),
    two_phase_steps: v.array(v.string()),
  }),
})

const Owner = v.object({
  kind: v.pipe(
    v.picklist(['v1', 'lock', 'pinned', 'dynamic']),
    v.description(
      '`v1`: no Jetmon 2 host or lock covers it; `lock`: a rollout lock; `pinned`, `dynamic`: an active host.',
    ),
  ),
  lock_id: v.optional(Id),
  host_id: v.optional(v.string()),
  phase: v.optional(v.picklist(['activating', 'active', 'releasing', 'released'])),
  host_ids: v.optional(v.array(v.string())),
})

const LockOut = v.object({
  id: Id,
  bucket_min: v.number(),
  bucket_max: v.number(),
  host_id: v.string(),
  state: v.picklist(['active', 'releasing', 'released']),
  phase: v.picklist(['activating', 'active', 'releasing', 'released']),
  session_id: v.nullable(Id),
  activated_at: Timestamp,
  acknowledged_at: v.nullable(Timestamp),
  release_requested_at: v.nullable(Timestamp),
  released_at: v.nullable(Timestamp),
})

export const getRolloutStatus = defineRoute({
  method: 'GET',
  path: '/rollout/status',
  scope: 'admin',
  tag: 'rollout',
  summary:
    'The ownership map: each contiguous bucket range with its owner and freshness, every host with its mode and heartbeat, the locks, the projection drift',
  status: 200,
  response: v.object({
    generated_at: Timestamp,
    bucket_total: v.number(),
    ranges: v.array(
      v.object({
        bucket_min: v.number(),
        bucket_max: v.number(),
        owner: Owner,
        in_transition: v.pipe(v.boolean(), v.description('A lock not yet acknowledged, or releasing.')),
        endpoints: v.pipe(v.number(), v.description('Active endpoints of the range.')),
        checked_recently: v.pipe(v.number(), v.description('Of those, checked in the last 15 minutes.')),
        freshness: v.pipe(
          v.nullable(v.number()),
          v.description('checked_recently / endpoints; null without endpoints.'),
        ),
      }),
    ),
    hosts: v.array(
      v.object({
        host_id: v.string(),
        mode: v.picklist(['active', 'standby', 'api-controlled']),
        pinned: v.boolean(),
        bucket_min: v.nullable(v.number()),
        bucket_max: v.nullable(v.number()),
        status: v.picklist(['active', 'draining']),
        heartbeat_at: Timestamp,
        lease_expires_at: Timestamp,
        live: v.boolean(),
        version: v.nullable(v.string()),
      }),
    ),
    locks: v.array(LockOut),
    drift: v.object({ count: v.number(), capped: v.boolean() }),
  }),
})

export const RolloutSession = v.object({
  id: Id,
  name: v.string(),
  bucket_min: v.number(),
  bucket_max: v.number(),
  state: v.picklist(['active', 'paused', 'closed']),
  created_by: v.string(),
  created_at: Timestamp,
  updated_at: Timestamp,
})

export const RolloutJob = v.object({
  id: Id,
  session_id: v.nullable(Id),
  step: v.string(),
  dry_run: v.boolean(),
  parameters: v.record(v.string(), v.unknown()),
  plan: v.nullable(v.record(v.string(), v.unknown())),
  outcome: v.picklist(['planned', 'blocked', 'applied', 'refused', 'failed']),
  error_code: v.nullable(v.string()),
  result: v.nullable(v.record(v.string(), v.unknown())),
  actor: v.string(),
  started_at: Timestamp,
  finished_at: v.nullable(Timestamp),
})

export const createRolloutSession = defineRoute({
  method: 'POST',
  path: '/rollout/sessions',
  scope: 'admin',
  tag: 'rollout',
  summary: "Start a rollout session: one migration's jobs, named, for a bucket range",
  body: v.pipe(
    v.strictObject({
      name: v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(128)),
      ...Range,
    }),
    rangeInOrder(),
  ),
  status: 201,
  response: RolloutSession,
  idempotent: true,
})

export const listRolloutSessions = defineRoute({
  method: 'GET',
  path: '/rollout/sessions',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Rollout sessions, newest first',
  query: v.strictObject({ ...PageQuery, state: v.optional(v.picklist(['active', 'paused', 'closed'])) }),
  status: 200,
  response: listOf(RolloutSession),
})

export const getRolloutSession = defineRoute({
  method: 'GET',
  path: '/rollout/sessions/{id}',
  scope: 'admin',
  tag: 'rollout',
  summary: 'A rollout session with its jobs, newest first (jobs_limit, default 50)',
  params: v.object({ id: IdParam }),
  query: v.strictObject({ jobs_limit: v.optional(integerParam(1, 500)) }),
  status: 200,
  response: v.object({ ...RolloutSession.entries, jobs: v.array(RolloutJob) }),
  errors: ['session_not_found'],
})

export const pauseRolloutSession = defineRoute({
  method: 'POST',
  path: '/rollout/sessions/{id}/pause',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Pause a session: further policy stages of its range are refused until it is resumed',
  params: v.object({ id: IdParam }),
  status: 200,
  response: RolloutSession,
  errors: ['session_not_found', 'session_closed'],
  idempotent: true,
})

export const resumeRolloutSession = defineRoute({
  method: 'POST',
  path: '/rollout/sessions/{id}/resume',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Resume a paused session',
  params: v.object({ id: IdParam }),
  status: 200,
  response: RolloutSession,
  errors: ['session_not_found', 'session_closed'],
  idempotent: true,
})

export const rolloutAdopt = defineRoute({
  method: 'POST',
  path: '/rollout/adopt',
  scope: 'admin',
  tag: 'rollout',
  summary:
    'Two-phase: open Jetmon 2 events for the incidents v1 reports in the range (site_status 0 → Seems Down, 2 → Down, already notified)',
  body: v.pipe(v.strictObject({ ...Range, ...TwoPhaseEntries }), rangeInOrder()),
  status: 200,
  response: RolloutStepAnswer,
  errors: CONFIRMATION_ERRORS,
  idempotent: true,
})

export const rolloutActivate = defineRoute({
  method: 'POST',
  path: '/rollout/activate',
  scope: 'admin',
  tag: 'rollout',
  summary:
    'Two-phase: hand the range to an api-controlled host (a lock); blocked unless the host is fresh and nobody else owns any bucket of it',
  body: v.pipe(v.strictObject({ ...Range, host_id: HostId, ...TwoPhaseEntries }), rangeInOrder()),
  status: 200,
  response: RolloutStepAnswer,
  errors: CONFIRMATION_ERRORS,
  idempotent: true,
})

export const rolloutRelease = defineRoute({
  method: 'POST',
  path: '/rollout/release',
  scope: 'admin',
  tag: 'rollout',
  summary:
    "Two-phase: the rollback to v1 — the range's host drains it; the execution waits up to wait_sec for the acknowledgement and says whether it came",
  body: v.pipe(
    v.strictObject({
      ...Range,
      ...TwoPhaseEntries,
      wait_sec: v.optional(
        v.pipe(
          v.number(),
          v.safeInteger('must be whole seconds'),
          v.minValue(0),
          v.maxValue(300),
          v.description('Execution: seconds to wait for the host to acknowledge (default 20, at most 300).'),
        ),
      ),
    }),
    rangeInOrder(),
  ),
  status: 200,
  response: RolloutStepAnswer,
  errors: CONFIRMATION_ERRORS,
  idempotent: true,
})

export const rolloutReconcile = defineRoute({
  method: 'POST',
  path: '/rollout/reconcile',
  scope: 'admin',
  tag: 'rollout',
  summary:
    'The gate after a handoff: every active endpoint of the range checked since `since` (default 15 min ago), no projection drift, no lock in transition',
  body: v.pipe(
    v.strictObject({
      ...Range,
      since: v.optional(TimestampInput),
      session_id: v.optional(IdInput),
    }),
    rangeInOrder(),
  ),
  status: 200,
  response: v.object({
    job_id: Id,
    passed: v.boolean(),
    bucket_min: v.number(),
    bucket_max: v.number(),
    since: Timestamp,
    endpoints: v.number(),
    unchecked: v.number(),
    drift: v.object({ count: v.number(), capped: v.boolean() }),
    locks_in_transition: v.array(
      v.object({
        lock_id: Id,
        host_id: v.string(),
        bucket_min: v.number(),
        bucket_max: v.number(),
        phase: v.string(),
      }),
    ),
    offenders: v.array(
      v.object({
        endpoint_id: Id,
        reason: v.picklist(['not_checked', 'projection_drift']),
        blog_id: v.optional(Id),
        bucket_no: v.optional(v.number()),
        last_checked_at: v.optional(v.nullable(Timestamp)),
        site_status: v.optional(v.number()),
        expected_status: v.optional(v.number()),
      }),
    ),
  }),
  errors: ['session_not_found', 'session_closed'],
  idempotent: true,
})

const PolicyOut = v.object({ method: v.picklist(REQUEST_METHODS), profile: v.picklist(DETECTION_PROFILES) })

export const RolloutPolicyStage = v.object({
  id: Id,
  session_id: v.nullable(Id),
  job_id: Id,
  bucket_min: v.number(),
  bucket_max: v.number(),
  from: v.pipe(v.nullable(PolicyOut), v.description('Null: every policy but `to`.')),
  to: PolicyOut,
  size: v.number(),
  moved: v.number(),
  restored: v.number(),
  state: v.picklist(['applied', 'rolled_back']),
  created_at: Timestamp,
  rolled_back_at: v.nullable(Timestamp),
})

export const createRolloutPolicyStage = defineRoute({
  method: 'POST',
  path: '/rollout/policy-stages',
  scope: 'admin',
  tag: 'rollout',
  summary:
    'Two-phase: move `size` active endpoints of the range on `from` (lowest id first) to `to`, saving their previous values; refused while a session of the range is paused',
  body: v.pipe(
    v.strictObject({
      ...Range,
      to: PolicyInput,
      from: v.optional(PolicyInput),
      size: v.pipe(
        v.number('is required: how many endpoints this stage moves'),
        v.safeInteger('must be a whole number'),
        v.minValue(1, 'must be at least 1'),
        v.maxValue(1_000_000),
      ),
      ...TwoPhaseEntries,
    }),
    rangeInOrder(),
  ),
  status: 200,
  response: RolloutStepAnswer,
  errors: CONFIRMATION_ERRORS,
  idempotent: true,
})

export const listRolloutPolicyStages = defineRoute({
  method: 'GET',
  path: '/rollout/policy-stages',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Policy stages, newest first: of a range (overlapping it) or of a session',
  query: v.strictObject({
    ...PageQuery,
    bucket_min: v.optional(integerParam(0, 65_535)),
    bucket_max: v.optional(integerParam(0, 65_535)),
    session_id: v.optional(IdParam),
  }),
  status: 200,
  response: listOf(RolloutPolicyStage),
})

export const rollbackRolloutPolicyStage = defineRoute({
  method: 'POST',
  path: '/rollout/policy-stages/{id}/rollback',
  scope: 'admin',
  tag: 'rollout',
  summary: "Two-phase: restore a stage's previous values; endpoints someone changed since are skipped and listed",
  params: v.object({ id: IdParam }),
  body: v.optional(v.strictObject({ ...TwoPhaseEntries }), {}),
  status: 200,
  response: RolloutStepAnswer,
  errors: [...CONFIRMATION_ERRORS, 'policy_stage_not_found'],
  idempotent: true,
})

export const rollbackAllRolloutPolicyStages = defineRoute({
  method: 'POST',
  path: '/rollout/policy-stages/rollback-all',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Two-phase: roll back every applied policy stage of the range, newest first',
  body: v.pipe(v.strictObject({ ...Range, ...TwoPhaseEntries }), rangeInOrder()),
  status: 200,
  response: RolloutStepAnswer,
  errors: CONFIRMATION_ERRORS,
  idempotent: true,
})

export const rolloutRoutes = {
  'rollout.capabilities': getRolloutCapabilities,
  'rollout.status': getRolloutStatus,
  'rollout.createSession': createRolloutSession,
  'rollout.listSessions': listRolloutSessions,
  'rollout.getSession': getRolloutSession,
  'rollout.pauseSession': pauseRolloutSession,
  'rollout.resumeSession': resumeRolloutSession,
  'rollout.adopt': rolloutAdopt,
  'rollout.activate': rolloutActivate,
  'rollout.release': rolloutRelease,
  'rollout.reconcile': rolloutReconcile,
  'rollout.createPolicyStage': createRolloutPolicyStage,
  'rollout.listPolicyStages': listRolloutPolicyStages,
  'rollout.rollbackPolicyStage': rollbackRolloutPolicyStage,
  'rollout.rollbackAllPolicyStages': rollbackAllRolloutPolicyStages,
}
