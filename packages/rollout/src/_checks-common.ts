/**
 * What preflight, smoke and compare share: their context, the range and sample rules, the
 * deterministic sample of a range's active endpoints, and a bounded pool for checks.
 */
import type { CheckRequest, CheckResult } from '@jetmon/checker'
import { isDowntime } from '@jetmon/checker'
import { type DbOrTx, monitorSites } from '@jetmon/db'
import type { VeriflierTarget } from '@jetmon/monitor'
import { checkRequestOf, type MonitoredEndpoint } from '@jetmon/monitor'
import { DEFAULT_ENDPOINT_DEFAULTS, type EndpointDefaults, loadEndpointConfigs } from '@jetmon/scheduler'
import { DETECTION_PROFILES, type DetectionProfile, REQUEST_METHODS, type RequestMethod } from '@jetmon/vocabulary'
import { and, asc, between, eq, sql } from 'drizzle-orm'
import { InvalidParametersError, SessionClosedError, SessionNotFoundError } from './errors.js'
import type { RolloutContext } from './jobs.js'
import { getSession } from './sessions.js'

/** Largest `bucket_no` (SMALLINT UNSIGNED). */
const MAX_BUCKET = 65_535
/** Default and largest sample of smoke and compare. */
export const DEFAULT_SAMPLE = 50
export const MAX_SAMPLE = 500
/** Checks run at once by one smoke or compare (each compare endpoint counts once: its two checks run in turn). */
export const DEFAULT_CHECK_CONCURRENCY = 16

/** A request method and detection profile: how an endpoint is checked and judged. */
export interface CheckPolicy {
  method: RequestMethod
  profile: DetectionProfile
}

/**
 * What the read-only and probing steps need besides the database: the checker as trigger-now
 * runs it, the configured verifliers, and the few settings the checks are about.
 */
export interface RolloutChecksContext extends RolloutContext {
  /**
   * The process's checker with its private-target guard (what trigger-now uses). Gateway tenants'
   * endpoints are guarded per request in any case, as the monitor guards them.
   */
  check: (request: CheckRequest) => Promise<CheckResult>
  /** `CHECK_TIMEOUT_MS` and the other fleet defaults endpoints are loaded with. */
  endpointDefaults?: EndpointDefaults
  /** `VERIFLIERS`. */
  verifliers?: readonly VeriflierTarget[]
  /** Votes needed to confirm Down (`VERIFLIER_QUORUM`, "auto" already resolved to a number). */
  veriflierQuorum?: number
  /** Deadline of one request to a veriflier (`VERIFLIER_TIMEOUT_MS`; default check timeout + 5 s). */
  veriflierTimeoutMs?: number
  /** Extra CA certificates (PEM) to trust for https:// verifliers (`CA_FILE`). */
  ca?: readonly string[]
  /** `BUCKET_TOTAL`. */
  bucketTotal: number
  /** `LEGACY_STATUS_PROJECTION_ENABLE`. */
  projectionEnabled: boolean
  /** How old a host's heartbeat may be and still count as fresh (default 30 s, one default lease). */
  heartbeatMaxAgeMs?: number
  /** Checks at once (default {@link DEFAULT_CHECK_CONCURRENCY}). */
  concurrency?: number
}

/** Refuses a parameter: `path` is its name in the API (`bucket_max`, `a.method`). */
export function refuse(path: string, message: string): never {
  throw new InvalidParametersError([{ path, message }])
}

/** The session a step is recorded with, when one is given: it must exist and not be closed. */
export async function requireOpenSession(
  ctx: RolloutContext,
  sessionId: bigint | null | undefined,
): Promise<bigint | null> {
  if (sessionId === null || sessionId === undefined) return null
  const session = await getSession(ctx, sessionId)
  if (!session) throw new SessionNotFoundError(sessionId)
  if (session.state === 'closed') throw new SessionClosedError(sessionId)
  return sessionId
}

export function nowOf(ctx: RolloutContext): Date {
  return (ctx.clock ?? (() => new Date()))()
}

/** Validates an inclusive bucket range against `BUCKET_TOTAL`. */
export function requireRange(bucketMin: number, bucketMax: number, bucketTotal: number): { min: number; max: number } {
  const last = Math.min(bucketTotal, MAX_BUCKET + 1) - 1
  for (const [field, value] of [
    ['bucket_min', bucketMin],
    ['bucket_max', bucketMax],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > last) {
      refuse(field, `expected a bucket number from 0 to ${last} (BUCKET_TOTAL ${bucketTotal}), got ${value}`)
    }
  }
  if (bucketMin > bucketMax) refuse('bucket_max', `must not be below bucket_min (${bucketMin}), got ${bucketMax}`)
  return { min: bucketMin, max: bucketMax }
}

export function requireSample(sample: number | undefined): number {
  const value = sample ?? DEFAULT_SAMPLE
  if (!Number.isInteger(value) || value < 1 || value > MAX_SAMPLE) {
    refuse('sample', `expected a whole number from 1 to ${MAX_SAMPLE}, got ${value}`)
  }
  return value
}

export function requirePolicy(
  field: string,
  policy: Partial<CheckPolicy> | undefined,
  fallback: CheckPolicy,
): CheckPolicy {
  const at = (name: string) => (field ? `${field}.${name}` : name)
  const method = policy?.method ?? fallback.method
  const profile = policy?.profile ?? fallback.profile
  if (!REQUEST_METHODS.includes(method)) {
    refuse(at('method'), `expected one of ${REQUEST_METHODS.join(', ')}, got ${method}`)
  }
  if (!DETECTION_PROFILES.includes(profile)) {
    refuse(at('profile'), `expected one of ${DETECTION_PROFILES.join(', ')}, got ${profile}`)
  }
  return { method, profile }
}

/** A sampled endpoint, loaded as the monitor would check it. */
export interface SampledEndpoint {
  endpointId: bigint
  blogId: bigint
  bucketNo: number
  config: MonitoredEndpoint
}

/**
 * The deterministic sample of a range: its active endpoints ordered by `CRC32` of their id (then
 * id), the first `size`. The same range and size give the same endpoints while the range's rows do
 * not change, spread over the whole range rather than its lowest ids. Also counts the range's
 * active endpoints.
 */
export async function sampleRange(
  db: DbOrTx,
  range: { min: number; max: number },
  size: number,
  defaults: EndpointDefaults = DEFAULT_ENDPOINT_DEFAULTS,
): Promise<{ active: number; endpoints: SampledEndpoint[] }> {
  const s = monitorSites
  const inRange = and(eq(s.monitorActive, 1), between(s.bucketNo, range.min, range.max))
  const [count] = await db
    .select({ active: sql<number>`COUNT(*)`.mapWith(Number) })
    .from(s)
    .where(inRange)
  const rows = await db
    .select({ endpointId: s.endpointId, blogId: s.blogId, bucketNo: s.bucketNo })
    .from(s)
    .where(inRange)
    .orderBy(sql`CRC32(${s.endpointId})`, asc(s.endpointId))
    .limit(size)
  const loaded = await loadEndpointConfigs(
    db,
    rows.map((row) => row.endpointId),
    defaults,
  )
  const endpoints: SampledEndpoint[] = []
  for (const row of rows) {
    const found = loaded.get(row.endpointId)
    if (found) endpoints.push({ ...row, config: found.config as MonitoredEndpoint })
  }
  return { active: count?.active ?? 0, endpoints }
}

/** The check request of a sampled endpoint under a policy (its own keyword, headers, redirects and guard kept). */
export function requestUnder(endpoint: SampledEndpoint, policy: CheckPolicy): CheckRequest {
  return { ...checkRequestOf(endpoint.config), method: policy.method, profile: policy.profile }
}

/** `up`, `down` (counts as downtime) or `unknown` (a problem of ours: `monitor_error`). */
export type Verdict = 'up' | 'down' | 'unknown'

export function verdictOf(result: CheckResult): Verdict {
  if (result.error === 'monitor_error') return 'unknown'
  return isDowntime(result) ? 'down' : 'up'
}

/** What a verdict rests on, small enough to keep with a job. */
export interface CheckOutcome {
  verdict: Verdict
  error: string | null
  errorCode: number
  httpStatus: number | null
  totalMs: number | null
  detail: string | null
}

/** Runs one check; a checker that throws (a bug, never a site) is an `unknown` verdict, not a failed step. */
export async function runCheck(ctx: RolloutChecksContext, request: CheckRequest): Promise<CheckOutcome> {
  try {
    const result = await ctx.check(request)
    return {
      verdict: verdictOf(result),
      error: result.error,
      errorCode: result.errorCode,
      httpStatus: result.httpStatus,
      totalMs: result.timings.totalMs,
      detail: result.detail,
    }
  } catch (error) {
    return {
      verdict: 'unknown',
      error: 'monitor_error',
      errorCode: 99,
      httpStatus: null,
      totalMs: null,
      detail: `the checker failed: ${(error as Error).message}`.slice(0, 512),
    }
  }
}

/** Maps `items` through `fn` with at most `limit` calls at once, keeping the order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      out[index] = await fn(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return out
}

/** Buckets as people write them: `5` or `0–99`. */
export function rangeText(range: { min: number; max: number }): string {
  return range.min === range.max ? `bucket ${range.min}` : `buckets ${range.min}–${range.max}`
}
