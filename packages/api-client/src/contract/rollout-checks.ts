/**
 * The read-only and probing steps of the rollout control plane (docs/rollout.md): preflight, smoke
 * and compare, and the rows of a compare job. Admin scope; none of them needs a confirmation token.
 */
import { DETECTION_PROFILES, REQUEST_METHODS } from '@jetmon/vocabulary'
import * as v from 'valibot'
import { defineRoute } from './route.js'
import { BooleanParam, Id, IdInput, IdParam, listOf, PageQuery, Timestamp } from './schema.js'

const Bucket = v.pipe(
  v.number('must be a bucket number'),
  v.safeInteger('must be a whole number'),
  v.minValue(0, 'must be at least 0'),
  v.maxValue(65_535, 'must be at most 65535'),
)
const Sample = v.pipe(
  v.number('must be a number'),
  v.safeInteger('must be a whole number'),
  v.minValue(1, 'must be at least 1'),
  v.maxValue(500, 'must be at most 500'),
)
const RequestMethod = v.picklist(REQUEST_METHODS, `must be one of ${REQUEST_METHODS.join(', ')}`)
const DetectionProfile = v.picklist(DETECTION_PROFILES, `must be one of ${DETECTION_PROFILES.join(', ')}`)
const CheckPolicy = v.strictObject({ method: RequestMethod, profile: DetectionProfile })
const CheckPolicyOut = v.object({ method: v.picklist(REQUEST_METHODS), profile: v.picklist(DETECTION_PROFILES) })

// bucket_min ≤ bucket_max < BUCKET_TOTAL is checked by the server, which knows BUCKET_TOTAL.
const RangeEntries = {
  bucket_min: Bucket,
  bucket_max: Bucket,
  /** Groups the job with a rollout session. */
  session_id: v.optional(IdInput),
}

export const RolloutVerdict = v.pipe(
  v.picklist(['up', 'down', 'unknown']),
  v.description('`up`, `down` (counts as downtime) or `unknown` (a problem of the monitor: `monitor_error`).'),
)

const CheckOutcome = {
  verdict: RolloutVerdict,
  error: v.nullable(v.string()),
  error_code: v.number(),
  http_status: v.nullable(v.number()),
  total_ms: v.nullable(v.number()),
  detail: v.nullable(v.string()),
}

export const RolloutPreflightCheck = v.object({
  name: v.string(),
  ok: v.boolean(),
  severity: v.picklist(['blocking', 'warning']),
  message: v.string(),
  details: v.record(v.string(), v.unknown()),
})

export const rolloutPreflight = defineRoute({
  method: 'POST',
  path: '/rollout/preflight',
  scope: 'admin',
  tag: 'rollout',
  summary:
    'Read-only checks before moving a range to an api-controlled host: database, host, ownership, verifliers, v1 audit, projection',
  body: v.strictObject({
    ...RangeEntries,
    host_id: v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(255)),
  }),
  status: 200,
  response: v.object({
    job_id: Id,
    ok: v.pipe(v.boolean(), v.description('No blocking check failed.')),
    checks: v.array(RolloutPreflightCheck),
  }),
  errors: ['probe_unavailable', 'session_not_found', 'session_closed'],
})

export const RolloutSmokeVerdict = v.object({
  endpoint_id: Id,
  blog_id: Id,
  bucket_no: v.number(),
  url: v.string(),
  ...CheckOutcome,
  votes: v.optional(
    v.array(
      v.object({
        veriflier: v.string(),
        region: v.string(),
        vote: v.picklist(['up', 'down', 'error']),
        http_status: v.nullable(v.number()),
        error: v.nullable(v.string()),
      }),
    ),
  ),
})

export const rolloutSmoke = defineRoute({
  method: 'POST',
  path: '/rollout/smoke',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Check a deterministic sample of a range now (default HEAD + legacy); writes nothing but its job',
  body: v.strictObject({
    ...RangeEntries,
    sample: v.optional(Sample, 50),
    method: v.optional(RequestMethod, 'HEAD'),
    profile: v.optional(DetectionProfile, 'legacy'),
    verifliers: v.optional(v.boolean('must be true or false'), false),
  }),
  status: 200,
  response: v.object({
    job_id: Id,
    method: v.picklist(REQUEST_METHODS),
    profile: v.picklist(DETECTION_PROFILES),
    summary: v.object({
      active_endpoints: v.number(),
      checked: v.number(),
      up: v.number(),
      down: v.number(),
      unknown: v.number(),
      errors: v.record(v.string(), v.number()),
      veriflier_disagreements: v.nullable(v.number()),
    }),
    verdicts: v.array(RolloutSmokeVerdict),
    warnings: v.array(v.string()),
  }),
  errors: ['probe_unavailable', 'session_not_found', 'session_closed'],
})

const { verdict: _verdict, ...OutcomeDetail } = CheckOutcome
const ComparisonDetail = v.nullable(v.object(OutcomeDetail))

export const RolloutComparisonRow = v.object({
  id: Id,
  job_id: Id,
  endpoint_id: Id,
  blog_id: Id,
  a_verdict: RolloutVerdict,
  a: ComparisonDetail,
  b_verdict: RolloutVerdict,
  b: ComparisonDetail,
  disagree: v.boolean(),
  created_at: Timestamp,
})

const Tally = v.object({ up: v.number(), down: v.number(), unknown: v.number() })

export const rolloutCompare = defineRoute({
  method: 'POST',
  path: '/rollout/compare',
  scope: 'admin',
  tag: 'rollout',
  summary: 'Check a sample of a range under two check policies; stores a row per endpoint, returns the disagreements',
  body: v.strictObject({ ...RangeEntries, sample: v.optional(Sample, 50), a: CheckPolicy, b: CheckPolicy }),
  status: 200,
  response: v.object({
    job_id: Id,
    a: CheckPolicyOut,
    b: CheckPolicyOut,
    summary: v.object({
      active_endpoints: v.number(),
      compared: v.number(),
      agree: v.number(),
      disagree: v.number(),
      a: Tally,
      b: Tally,
    }),
    disagreements: v.array(RolloutComparisonRow),
    warnings: v.array(v.string()),
  }),
  errors: ['probe_unavailable', 'session_not_found', 'session_closed'],
})

export const rolloutCompareResults = defineRoute({
  method: 'GET',
  path: '/rollout/compare/{job_id}',
  scope: 'admin',
  tag: 'rollout',
  summary: "A compare job's rows, lowest endpoint id first (disagreements=true: only those)",
  params: v.object({ job_id: IdParam }),
  query: v.strictObject({ ...PageQuery, disagreements: v.optional(BooleanParam) }),
  status: 200,
  response: listOf(RolloutComparisonRow),
  errors: ['compare_job_not_found'],
})

export const rolloutChecksRoutes = {
  'rollout.preflight': rolloutPreflight,
  'rollout.smoke': rolloutSmoke,
  'rollout.compare': rolloutCompare,
  'rollout.compareResults': rolloutCompareResults,
}
