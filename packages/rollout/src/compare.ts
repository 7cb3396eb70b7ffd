/**
 * Compare: check each endpoint of a range's sample with two policies (say `HEAD` + `legacy`, what v1
 * did, and `GET` + `simple_http`, where the range is going) and keep both verdicts, so that an
 * operator sees which sites a policy change would turn Down before making it.
 */
import { type Db, type DbOrTx, rolloutComparisonResults, rolloutJobs, withTransaction } from '@jetmon/db'
import { and, asc, eq, gt } from 'drizzle-orm'
import {
  type CheckOutcome,
  type CheckPolicy,
  DEFAULT_CHECK_CONCURRENCY,
  mapBounded,
  nowOf,
  type RolloutChecksContext,
  rangeText,
  refuse,
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

export interface CompareInput {
  bucketMin: number
  bucketMax: number
  /** Endpoints to check (default 50, at most 500). */
  sample?: number
  a: CheckPolicy
  b: CheckPolicy
  sessionId?: bigint | null
}

/** What one check under one policy concluded, as stored with a comparison row. */
export type ComparisonDetail = Omit<CheckOutcome, 'verdict'>

/** One sampled endpoint checked under both policies (a row of `jetmon_rollout_comparison_results`). */
export interface ComparisonRow {
  id: bigint
  jobId: bigint
  endpointId: bigint
  blogId: bigint
  aVerdict: Verdict
  aDetail: ComparisonDetail | null
  bVerdict: Verdict
  bDetail: ComparisonDetail | null
  /** The two verdicts differ. */
  disagree: boolean
  createdAt: Date
}

export interface CompareSummary {
  activeEndpoints: number
  compared: number
  agree: number
  disagree: number
  a: Record<Verdict, number>
  b: Record<Verdict, number>
}

export interface CompareResult {
  jobId: bigint
  a: CheckPolicy
  b: CheckPolicy
  summary: CompareSummary
  /** The rows whose verdicts differ, lowest endpoint id first. */
  disagreements: ComparisonRow[]
  warnings: string[]
}

const INSERT_BATCH = 100

function detailOf(outcome: CheckOutcome): ComparisonDetail {
  const { verdict: _verdict, ...detail } = outcome
  return detail
}

function tally(outcomes: readonly CheckOutcome[]): Record<Verdict, number> {
  const out: Record<Verdict, number> = { up: 0, down: 0, unknown: 0 }
  for (const outcome of outcomes) out[outcome.verdict]++
  return out
}

/**
 * Checks the same deterministic sample as smoke (see the package README) of buckets
 * `bucketMin`–`bucketMax` under policy `a` and then policy `b`, endpoint by endpoint, at most
 * `ctx.concurrency` endpoints at once. Stores one row per endpoint in
 * `jetmon_rollout_comparison_results` with its job (step `compare`) in one transaction, and returns
 * the disagreements; {@link listComparisonResults} pages all the rows. Writes nothing else.
 *
 * @throws InvalidParametersError for a bad range, sample or policy.
 */
export async function compare(ctx: RolloutChecksContext, input: CompareInput): Promise<CompareResult> {
  const startedAt = nowOf(ctx)
  const range = requireRange(input.bucketMin, input.bucketMax, ctx.bucketTotal)
  const size = requireSample(input.sample)
  if (!input.a) refuse('a', 'give policy a: {method, profile}')
  if (!input.b) refuse('b', 'give policy b: {method, profile}')
  const a = requirePolicy('a', input.a, input.a)
  const b = requirePolicy('b', input.b, input.b)
  const sessionId = await requireOpenSession(ctx, input.sessionId)
  const { active, endpoints } = await sampleRange(ctx.db, range, size, ctx.endpointDefaults)
  const warnings: string[] = []
  if (endpoints.length === 0) warnings.push(`no active endpoint in ${rangeText(range)}: nothing was compared`)
  if (a.method === b.method && a.profile === b.profile) {
    warnings.push(`a and b are the same policy (${a.method} + ${a.profile}): any disagreement is a flapping site`)
  }

  const pairs = await mapBounded(endpoints, ctx.concurrency ?? DEFAULT_CHECK_CONCURRENCY, async (endpoint) => {
    // One after the other, so that both see the site in about the same state without doubling its load.
    const first = await runCheck(ctx, requestUnder(endpoint, a))
    const second = await runCheck(ctx, requestUnder(endpoint, b))
    return { endpoint, a: first, b: second }
  })
  const disagreeing = pairs.filter((pair) => pair.a.verdict !== pair.b.verdict)
  const summary: CompareSummary = {
    activeEndpoints: active,
    compared: pairs.length,
    agree: pairs.length - disagreeing.length,
    disagree: disagreeing.length,
    a: tally(pairs.map((pair) => pair.a)),
    b: tally(pairs.map((pair) => pair.b)),
  }

  const jobId = await withTransaction(ctx.db, async (tx) => {
    const id = await recordJob(
      { ...ctx, db: tx as unknown as Db },
      {
        sessionId,
        step: 'compare',
        dryRun: false,
        parameters: { bucket_min: range.min, bucket_max: range.max, sample: size, a, b },
        outcome: 'applied',
        result: { summary: { ...summary }, warnings },
        startedAt,
      },
    )
    const rows = [...pairs]
      .sort((x, y) => (x.endpoint.endpointId < y.endpoint.endpointId ? -1 : 1))
      .map((pair) => ({
        jobId: id,
        endpointId: pair.endpoint.endpointId,
        blogId: pair.endpoint.blogId,
        aVerdict: pair.a.verdict,
        aDetail: detailOf(pair.a),
        bVerdict: pair.b.verdict,
        bDetail: detailOf(pair.b),
        disagree: pair.a.verdict !== pair.b.verdict,
      }))
    for (let start = 0; start < rows.length; start += INSERT_BATCH) {
      await tx.insert(rolloutComparisonResults).values(rows.slice(start, start + INSERT_BATCH))
    }
    return id
  })
  const disagreements = await listComparisonResults(ctx, { jobId, disagreements: true, limit: 500 })
  return { jobId, a, b, summary, disagreements, warnings }
}

export interface ListComparisonResultsInput {
  jobId: bigint
  /** Only the rows whose verdicts differ. */
  disagreements?: boolean
  /** The largest id of the previous page. */
  after?: bigint
  /** Rows per page (default 50, at most 500). */
  limit?: number
}

/** A compare job's rows in id order (lowest endpoint id first), a page at a time. */
export async function listComparisonResults(
  ctx: { db: DbOrTx },
  input: ListComparisonResultsInput,
): Promise<ComparisonRow[]> {
  const limit = Math.min(Math.max(input.limit ?? 50, 1), 500)
  const r = rolloutComparisonResults
  const rows = await ctx.db
    .select()
    .from(r)
    .where(
      and(
        eq(r.jobId, input.jobId),
        input.disagreements ? eq(r.disagree, true) : undefined,
        input.after !== undefined ? gt(r.id, input.after) : undefined,
      ),
    )
    .orderBy(asc(r.id))
    .limit(limit)
  return rows.map((row) => ({
    id: row.id,
    jobId: row.jobId,
    endpointId: row.endpointId,
    blogId: row.blogId,
    aVerdict: row.aVerdict as Verdict,
    aDetail: (row.aDetail ?? null) as ComparisonDetail | null,
    bVerdict: row.bVerdict as Verdict,
    bDetail: (row.bDetail ?? null) as ComparisonDetail | null,
    disagree: Boolean(row.disagree),
    createdAt: row.createdAt,
  }))
}

/** Whether `jobId` is a compare job (so that its rows can be listed). */
export async function isCompareJob(ctx: { db: DbOrTx }, jobId: bigint): Promise<boolean> {
  const [row] = await ctx.db
    .select({ step: rolloutJobs.step })
    .from(rolloutJobs)
    .where(eq(rolloutJobs.id, jobId))
    .limit(1)
  return row?.step === 'compare'
}
