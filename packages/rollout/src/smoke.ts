/**
 * Smoke: check a deterministic sample of a range now, with the policy it will start on, and say
 * what Jetmon 2 would see. It runs the checks and nothing else: no event, history, state, notice
 * or projection is written, only its job row.
 */
import { askVerifliers, type VeriflierVote } from '@jetmon/monitor'
import {
  type CheckOutcome,
  type CheckPolicy,
  DEFAULT_CHECK_CONCURRENCY,
  mapBounded,
  nowOf,
  type RolloutChecksContext,
  rangeText,
  requestUnder,
  requireOpenSession,
  requirePolicy,
  requireRange,
  requireSample,
  runCheck,
  sampleRange,
  type Verdict,
} from './_checks-common.js'
import { recordJob } from './jobs.js'

export {
  type CheckOutcome,
  type CheckPolicy,
  DEFAULT_CHECK_CONCURRENCY,
  DEFAULT_SAMPLE,
  MAX_SAMPLE,
  type RolloutChecksContext,
  type Verdict,
} from './_checks-common.js'

/** The policy smoke checks with unless told otherwise: what v1 did. */
export const SMOKE_DEFAULT_POLICY: CheckPolicy = { method: 'HEAD', profile: 'legacy' }

export interface SmokeInput {
  bucketMin: number
  bucketMax: number
  /** Endpoints to check (default 50, at most 500). */
  sample?: number
  method?: CheckPolicy['method']
  profile?: CheckPolicy['profile']
  /** Also ask every configured veriflier to check the sample. */
  verifliers?: boolean
  sessionId?: bigint | null
}

/** One veriflier's opinion of one sampled endpoint. */
export interface SmokeVote {
  veriflier: string
  region: string
  vote: VeriflierVote['vote']
  httpStatus: number | null
  error: string | null
}

export interface SmokeVerdict extends CheckOutcome {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  url: string
  /** With `verifliers`: each veriflier's vote. */
  votes?: SmokeVote[]
}

export interface SmokeSummary {
  /** Active endpoints in the range. */
  activeEndpoints: number
  checked: number
  up: number
  down: number
  unknown: number
  /** Failed checks by error name. */
  errors: Record<string, number>
  /** With `verifliers`: how many endpoints the verifliers' majority judged differently from this check. */
  veriflierDisagreements?: number
}

export interface SmokeResult {
  jobId: bigint
  policy: CheckPolicy
  summary: SmokeSummary
  verdicts: SmokeVerdict[]
  warnings: string[]
}

/**
 * Checks a deterministic sample (see the package README) of the active endpoints of buckets
 * `bucketMin`–`bucketMax` now, with `method` and `profile` (default `HEAD` + `legacy`) and each
 * endpoint's own keyword, headers, redirects and private-target guard, at most
 * `ctx.concurrency` at once; with `verifliers`, asks every configured veriflier too. Writes only its
 * job row (step `smoke`). An empty range is a warning, not an error.
 *
 * @throws InvalidParametersError for a bad range, sample, method or profile.
 */
export async function smoke(ctx: RolloutChecksContext, input: SmokeInput): Promise<SmokeResult> {
  const startedAt = nowOf(ctx)
  const range = requireRange(input.bucketMin, input.bucketMax, ctx.bucketTotal)
  const size = requireSample(input.sample)
  const policy = requirePolicy(
    '',
    { method: input.method, profile: input.profile } as Partial<CheckPolicy>,
    SMOKE_DEFAULT_POLICY,
  )
  const sessionId = await requireOpenSession(ctx, input.sessionId)
  const { active, endpoints } = await sampleRange(ctx.db, range, size, ctx.endpointDefaults)
  const warnings: string[] = []
  if (endpoints.length === 0) warnings.push(`no active endpoint in ${rangeText(range)}: nothing was checked`)

  const askVeriflierToo = input.verifliers === true && endpoints.length > 0
  const verifliers = ctx.verifliers ?? []
  if (input.verifliers === true && verifliers.length === 0) {
    warnings.push('verifliers were asked for, but none are configured (VERIFLIERS is empty)')
  }
  const requests = endpoints.map((endpoint) => requestUnder(endpoint, policy))
  const [outcomes, votes] = await Promise.all([
    mapBounded(requests, ctx.concurrency ?? DEFAULT_CHECK_CONCURRENCY, (request) => runCheck(ctx, request)),
    askVeriflierToo && verifliers.length > 0
      ? askVerifliers({
          verifliers,
          checks: endpoints.map((endpoint, index) => ({
            ...requests[index]!,
            endpointId: endpoint.endpointId,
            blogId: endpoint.blogId,
          })),
          timeoutMs: ctx.veriflierTimeoutMs ?? (ctx.endpointDefaults?.timeoutMs ?? 10_000) + 5_000,
          ca: ctx.ca,
        })
      : Promise.resolve(null),
  ])

  const verdicts: SmokeVerdict[] = endpoints.map((endpoint, index) => ({
    endpointId: endpoint.endpointId,
    blogId: endpoint.blogId,
    bucketNo: endpoint.bucketNo,
    url: endpoint.config.url,
    ...outcomes[index]!,
    ...(votes
      ? {
          votes: (votes.get(endpoint.endpointId) ?? []).map((vote) => ({
            veriflier: vote.veriflier,
            region: vote.region,
            vote: vote.vote,
            httpStatus: vote.httpStatus,
            error: vote.error,
          })),
        }
      : {}),
  }))

  const count = (verdict: Verdict) => verdicts.filter((v) => v.verdict === verdict).length
  const errors: Record<string, number> = {}
  for (const v of verdicts) if (v.verdict !== 'up' && v.error) errors[v.error] = (errors[v.error] ?? 0) + 1
  const summary: SmokeSummary = {
    activeEndpoints: active,
    checked: verdicts.length,
    up: count('up'),
    down: count('down'),
    unknown: count('unknown'),
    errors,
  }
  if (votes) {
    summary.veriflierDisagreements = verdicts.filter((v) => {
      const usable = (v.votes ?? []).filter((vote) => vote.vote !== 'error')
      if (usable.length === 0 || v.verdict === 'unknown') return false
      const down = usable.filter((vote) => vote.vote === 'down').length
      return down * 2 > usable.length !== (v.verdict === 'down')
    }).length
  }
  if (summary.down > 0) {
    warnings.push(
      `${summary.down} of ${summary.checked} sampled endpoints fail with ${policy.method} + ${policy.profile}; look at them before activating the range`,
    )
  }
  const jobId = await recordJob(ctx, {
    sessionId,
    step: 'smoke',
    dryRun: false,
    parameters: {
      bucket_min: range.min,
      bucket_max: range.max,
      sample: size,
      method: policy.method,
      profile: policy.profile,
      verifliers: input.verifliers === true,
    },
    outcome: 'applied',
    result: {
      summary: { ...summary },
      warnings,
      // Failures only: the passing checks add nothing a later reader needs.
      failures: verdicts
        .filter((v) => v.verdict !== 'up')
        .map((v) => ({
          endpoint_id: v.endpointId.toString(),
          url: v.url,
          verdict: v.verdict,
          error: v.error,
          http_status: v.httpStatus,
          detail: v.detail,
        })),
    },
    startedAt,
  })
  return { jobId, policy, summary, verdicts, warnings }
}
