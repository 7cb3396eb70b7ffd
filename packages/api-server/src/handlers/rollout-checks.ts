import { jsonId, type rolloutChecksRoutes } from '@jetmon/api-client'
import {
  type CheckOutcome,
  type ComparisonRow,
  compare,
  InvalidParametersError,
  isCompareJob,
  isRolloutError,
  listComparisonResults,
  preflight,
  type RolloutChecksContext,
  smoke,
} from '@jetmon/rollout'
import type { Handlers, RequestContext } from '../context.js'
import { ApiError, invalidRequest, notFound } from '../errors.js'
import { DEFAULT_LIMIT, decodeCursor, pageOf } from '../pagination.js'

type AnyContext = Pick<RequestContext<never>, 'deps' | 'source'>

/** The rollout checks' context for this request, or 503 when this process cannot run checks. */
function checksContext({ deps, source }: AnyContext): RolloutChecksContext {
  if (!deps.rolloutChecks) {
    throw new ApiError(
      503,
      'probe_unavailable',
      'this API process cannot run rollout checks: use the API of `jetmon2 serve`, which checks with the monitor’s checker and verifliers',
    )
  }
  return { ...deps.rolloutChecks(), db: deps.db, actor: source, clock: deps.now ?? (() => new Date()) }
}

/**
 * Runs a rollout check, answering 400 with the path of each parameter the library refuses (a range
 * beyond BUCKET_TOTAL or upside down), 404 for an unknown session and 409 for a closed one.
 */
async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof InvalidParametersError) throw invalidRequest([...error.issues])
    if (isRolloutError(error, 'SESSION_NOT_FOUND')) throw new ApiError(404, 'session_not_found', error.message)
    if (isRolloutError(error, 'SESSION_CLOSED')) throw new ApiError(409, 'session_closed', error.message)
    throw error
  }
}

function outcomeOf(outcome: CheckOutcome) {
  return {
    verdict: outcome.verdict,
    error: outcome.error,
    error_code: outcome.errorCode,
    http_status: outcome.httpStatus,
    total_ms: outcome.totalMs,
    detail: outcome.detail,
  }
}

function detailOf(detail: ComparisonRow['aDetail']) {
  if (!detail) return null
  const { verdict: _verdict, ...rest } = outcomeOf({ ...detail, verdict: 'unknown' })
  return rest
}

function comparisonRowOf(row: ComparisonRow) {
  return {
    id: jsonId(row.id),
    job_id: jsonId(row.jobId),
    endpoint_id: jsonId(row.endpointId),
    blog_id: jsonId(row.blogId),
    a_verdict: row.aVerdict,
    a: detailOf(row.aDetail),
    b_verdict: row.bVerdict,
    b: detailOf(row.bDetail),
    disagree: row.disagree,
    created_at: row.createdAt.toISOString(),
  }
}

export const rolloutChecksHandlers: Handlers<typeof rolloutChecksRoutes> = {
  async 'rollout.preflight'(request) {
    const { body } = request
    const result = await run(() =>
      preflight(checksContext(request), {
        bucketMin: body.bucket_min,
        bucketMax: body.bucket_max,
        hostId: body.host_id,
        sessionId: body.session_id ?? null,
      }),
    )
    return { job_id: jsonId(result.jobId), ok: result.ok, checks: result.checks }
  },

  async 'rollout.smoke'(request) {
    const { body } = request
    const result = await run(() =>
      smoke(checksContext(request), {
        bucketMin: body.bucket_min,
        bucketMax: body.bucket_max,
        sample: body.sample,
        method: body.method,
        profile: body.profile,
        verifliers: body.verifliers,
        sessionId: body.session_id ?? null,
      }),
    )
    const { summary } = result
    return {
      job_id: jsonId(result.jobId),
      method: result.policy.method,
      profile: result.policy.profile,
      summary: {
        active_endpoints: summary.activeEndpoints,
        checked: summary.checked,
        up: summary.up,
        down: summary.down,
        unknown: summary.unknown,
        errors: summary.errors,
        veriflier_disagreements: summary.veriflierDisagreements ?? null,
      },
      verdicts: result.verdicts.map((verdict) => ({
        endpoint_id: jsonId(verdict.endpointId),
        blog_id: jsonId(verdict.blogId),
        bucket_no: verdict.bucketNo,
        url: verdict.url,
        ...outcomeOf(verdict),
        ...(verdict.votes
          ? {
              votes: verdict.votes.map((vote) => ({
                veriflier: vote.veriflier,
                region: vote.region,
                vote: vote.vote,
                http_status: vote.httpStatus,
                error: vote.error,
              })),
            }
          : {}),
      })),
      warnings: result.warnings,
    }
  },

  async 'rollout.compare'(request) {
    const { body } = request
    const result = await run(() =>
      compare(checksContext(request), {
        bucketMin: body.bucket_min,
        bucketMax: body.bucket_max,
        sample: body.sample,
        a: body.a,
        b: body.b,
        sessionId: body.session_id ?? null,
      }),
    )
    return {
      job_id: jsonId(result.jobId),
      a: result.a,
      b: result.b,
      summary: {
        active_endpoints: result.summary.activeEndpoints,
        compared: result.summary.compared,
        agree: result.summary.agree,
        disagree: result.summary.disagree,
        a: result.summary.a,
        b: result.summary.b,
      },
      disagreements: result.disagreements.map(comparisonRowOf),
      warnings: result.warnings,
    }
  },

  async 'rollout.compareResults'({ deps, params, query }) {
    if (!(await isCompareJob({ db: deps.db }, params.job_id))) throw notFound('compare_job', params.job_id)
    const limit = query.limit ?? DEFAULT_LIMIT
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, ['id'])[0]
    const rows = await listComparisonResults(
      { db: deps.db },
      { jobId: params.job_id, disagreements: query.disagreements === true, after, limit: limit + 1 },
    )
    return pageOf(rows, limit, comparisonRowOf, (row) => [row.id.toString()])
  },
}
