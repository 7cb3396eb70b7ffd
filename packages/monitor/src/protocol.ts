import type { CheckRequest, CheckResult } from '@jetmon/checker'
import {
  DETECTION_PROFILES,
  type DetectionProfile,
  REDIRECT_POLICIES,
  REQUEST_METHODS,
  type RedirectPolicy,
  type RequestMethod,
} from '@jetmon/vocabulary'
import * as v from 'valibot'

// The wire format of POST /v1/check, the one declaration both sides use: the veriflier parses
// requests and writes answers with it, the monitor's client writes requests with it. It is a contract with every
// monitor in the fleet, old and new: field names are snake_case and unknown fields are ignored, so
// that a newer monitor can send more than this veriflier knows about.

/** The path of the check endpoint, resolved against a veriflier's base URL. */
export const CHECK_PATH = 'v1/check'
/** Most checks in one request (a monitor splits larger sets over several requests). */
export const MAX_CHECKS = 100
/** Most bytes of one request body. */
export const MAX_BODY_BYTES = 1024 * 1024
/** Most entries of `details` in a 400 answer (a batch of 100 broken checks would otherwise answer with a novel). */
const MAX_DETAILS = 20
const MAX_ID = 2n ** 64n - 1n

/**
 * An endpoint or blog id exactly as the monitor sent it: ids are BIGINT UNSIGNED in the database,
 * beyond what a JSON number holds exactly, so they may come as decimal strings. The answer echoes
 * `raw` so the monitor gets back the same form it sent.
 */
export interface WireId {
  value: bigint
  raw: number | string
}

const idSchema = v.pipe(
  v.union([v.number(), v.string()], 'must be a whole number or a decimal string such as "123"'),
  v.rawTransform(({ dataset, addIssue, NEVER }): WireId => {
    const raw = dataset.value
    if (typeof raw === 'number') {
      if (!Number.isInteger(raw) || raw < 0) {
        addIssue({ message: 'must be a whole number of at least 0' })
        return NEVER
      }
      if (!Number.isSafeInteger(raw)) {
        addIssue({ message: 'is too large for a JSON number (it may have lost digits): send it as a decimal string' })
        return NEVER
      }
      return { value: BigInt(raw), raw }
    }
    if (!/^\d{1,20}$/.test(raw) || BigInt(raw) > MAX_ID) {
      addIssue({ message: 'must be a decimal string of digits only, at most 18446744073709551615' })
      return NEVER
    }
    return { value: BigInt(raw), raw }
  }),
)

const wholeNumber = (min: number, max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  )

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

const headerName = v.pipe(
  v.string(),
  v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not a valid HTTP header name'),
  v.maxLength(256, 'is not a valid HTTP header name (longer than 256 characters)'),
)

const keywordText = v.pipe(v.string('must be a string'), v.maxLength(1024, 'must be at most 1024 characters long'))

const checkSchema = v.object(
  {
    endpoint_id: idSchema,
    blog_id: v.nullish(idSchema),
    url: v.pipe(
      v.string('must be a string'),
      v.maxLength(2048, 'must be at most 2048 characters long'),
      v.check(isHttpUrl, 'must be an http:// or https:// URL'),
    ),
    method: v.nullish(v.picklist(REQUEST_METHODS, 'must be "GET" or "HEAD"')),
    // Absent (a monitor from before detection profiles) or null: `full`, what such a monitor judged with.
    profile: v.nullish(v.picklist(DETECTION_PROFILES, 'must be "legacy", "simple_http" or "full"')),
    timeout_ms: v.nullish(wholeNumber(1, 300_000)),
    headers: v.nullish(
      v.pipe(
        v.record(
          headerName,
          v.pipe(
            v.string('must be a string'),
            v.regex(/^[^\r\n\0]*$/, 'must not contain line breaks'),
            v.maxLength(8192, 'must be at most 8192 characters long'),
          ),
          'must be an object of header names and string values',
        ),
        v.check((headers) => Object.keys(headers).length <= 50, 'must have at most 50 headers'),
      ),
    ),
    redirect_policy: v.nullish(v.picklist(REDIRECT_POLICIES, 'must be "follow", "alert" or "fail"')),
    max_redirects: v.nullish(wholeNumber(0, 50)),
    keyword: v.nullish(keywordText),
    forbidden_keywords: v.nullish(
      v.pipe(v.array(keywordText, 'must be a list of strings'), v.maxLength(100, 'must have at most 100 entries')),
    ),
    keyword_case_sensitive: v.nullish(v.boolean('must be true or false')),
    // Set by the monitor for endpoints whose URLs come from outside the operator's network.
    refuse_private_targets: v.nullish(v.boolean('must be true or false')),
  },
  'must be an object',
)

const ROOT_MESSAGE = 'must be a JSON object such as {"request_id": "...", "checks": [...]}'

const checkBatchSchema = v.object(
  {
    request_id: v.pipe(
      v.string('must be a string'),
      v.minLength(1, 'must not be empty'),
      v.maxLength(128, 'must be at most 128 characters long'),
    ),
    checks: v.pipe(
      v.array(checkSchema, 'must be a list of checks'),
      v.minLength(1, 'must hold at least one check'),
      v.maxLength(MAX_CHECKS, `must hold at most ${MAX_CHECKS} checks; split larger batches`),
    ),
  },
  ROOT_MESSAGE,
)

/** One check of a request, ready for the checker. */
export interface BatchCheck {
  endpointId: WireId
  blogId: WireId | null
  request: CheckRequest
}

/** A validated request. */
export interface CheckBatch {
  requestId: string
  checks: BatchCheck[]
}

/** One problem with a request body: where (`checks[3].url`) and what. */
export interface FieldIssue {
  path: string
  message: string
}

export type ParseBatchResult = { ok: true; batch: CheckBatch } | { ok: false; issues: FieldIssue[] }

/** `checks[3].headers.X-Token` from a valibot issue path. */
function pathToString(path: readonly v.IssuePathItem[] | undefined): string {
  let out = ''
  for (const item of path ?? []) {
    const key = item.key
    if (typeof key === 'number') out += `[${key}]`
    else out += out ? `.${String(key)}` : String(key)
  }
  return out
}

/** Validates a parsed JSON body; problems are data, every one of them (up to a few dozen). */
export function parseCheckBatch(body: unknown): ParseBatchResult {
  // valibot's object schema takes a list for an object with missing keys: say what is wrong instead.
  if (Array.isArray(body)) return { ok: false, issues: [{ path: '', message: ROOT_MESSAGE }] }
  const result = v.safeParse(checkBatchSchema, body)
  if (!result.success) {
    const issues: FieldIssue[] = []
    for (const issue of result.issues) {
      const path = pathToString(issue.path)
      // A missing key fails its type check with `undefined`: say what actually happened.
      const message = issue.kind === 'schema' && issue.input === undefined && path ? 'is required' : issue.message
      if (!issues.some((known) => known.path === path && known.message === message)) issues.push({ path, message })
      if (issues.length === MAX_DETAILS) break
    }
    return { ok: false, issues }
  }
  const { request_id, checks } = result.output
  return {
    ok: true,
    batch: {
      requestId: request_id,
      checks: checks.map((check) => ({
        endpointId: check.endpoint_id,
        blogId: check.blog_id ?? null,
        request: {
          url: check.url,
          ...(check.method != null && { method: check.method }),
          ...(check.profile != null && { profile: check.profile }),
          ...(check.timeout_ms != null && { timeoutMs: check.timeout_ms }),
          ...(check.headers != null && { headers: check.headers }),
          ...(check.redirect_policy != null && { redirectPolicy: check.redirect_policy }),
          ...(check.max_redirects != null && { maxRedirects: check.max_redirects }),
          ...(check.keyword != null && { keyword: check.keyword }),
          ...(check.forbidden_keywords != null && { forbiddenKeywords: check.forbidden_keywords }),
          ...(check.keyword_case_sensitive != null && { keywordCaseSensitive: check.keyword_case_sensitive }),
          ...(check.refuse_private_targets === true && { refusePrivateTargets: true }),
        },
      })),
    },
  }
}

/** One entry of `results` in the answer. */
export interface WireResult {
  endpoint_id: number | string
  ok: boolean
  error: string | null
  error_code: number
  http_status: number | null
  timings: {
    dns_ms: number | null
    connect_ms: number | null
    tls_ms: number | null
    ttfb_ms: number | null
    transfer_ms: number | null
    total_ms: number
  }
  tls: {
    protocol: string | null
    cipher: string | null
    subject: string | null
    issuer: string | null
    alt_names: string[]
    valid_from: string | null
    valid_to: string | null
    days_until_expiry: number | null
    failure: string | null
  } | null
  dns: { addresses: string[]; servers: string[]; failure_class: string | null; source: string | null } | null
  detail: string | null
}

/** The answer's form of a checker result. */
export function toWireResult(endpointId: WireId, result: CheckResult): WireResult {
  const { timings, tls, dns } = result
  return {
    endpoint_id: endpointId.raw,
    ok: result.ok,
    error: result.error,
    error_code: result.errorCode,
    http_status: result.httpStatus,
    timings: {
      dns_ms: timings.dnsMs,
      connect_ms: timings.connectMs,
      tls_ms: timings.tlsMs,
      ttfb_ms: timings.ttfbMs,
      transfer_ms: timings.transferMs,
      total_ms: timings.totalMs,
    },
    tls: tls
      ? {
          protocol: tls.protocol,
          cipher: tls.cipher,
          subject: tls.subject,
          issuer: tls.issuer,
          alt_names: tls.altNames,
          valid_from: tls.validFrom,
          valid_to: tls.validTo,
          days_until_expiry: tls.daysUntilExpiry,
          failure: tls.failure ?? null,
        }
      : null,
    dns: dns
      ? {
          addresses: dns.addresses,
          servers: dns.servers,
          failure_class: dns.failureClass ?? null,
          source: dns.source ?? null,
        }
      : null,
    detail: result.detail,
  }
}

/**
 * One check a monitor asks a veriflier to run: the endpoint's check request, as the monitor ran it.
 * The monitor decides which checks refuse private targets (a tenant's endpoint, or
 * `CHECK_ALLOW_PRIVATE_TARGETS=false`).
 */
export interface VeriflierCheck
  extends Pick<
    CheckRequest,
    | 'url'
    | 'method'
    | 'profile'
    | 'timeoutMs'
    | 'headers'
    | 'redirectPolicy'
    | 'maxRedirects'
    | 'keyword'
    | 'forbiddenKeywords'
    | 'keywordCaseSensitive'
    | 'refusePrivateTargets'
  > {
  endpointId: bigint
  blogId?: bigint | null | undefined
}

/** One entry of `checks` in a request, as the monitor sends it. */
export interface WireCheck {
  endpoint_id: string
  blog_id: string | null
  url: string
  method: RequestMethod | null
  /** The detection profile; null (or absent, from an older monitor) means `full`. */
  profile: DetectionProfile | null
  timeout_ms: number | null
  headers: Readonly<Record<string, string>> | null
  redirect_policy: RedirectPolicy | null
  max_redirects: number | null
  keyword: string | null
  forbidden_keywords: readonly string[] | null
  keyword_case_sensitive: boolean | null
  refuse_private_targets: boolean
}

/** The body of a request: `request_id` correlates it with the veriflier's log. */
export interface WireCheckBatch {
  request_id: string
  checks: WireCheck[]
}

/** A check's wire form, as the monitor sends it. */
export function toWireCheck(check: VeriflierCheck): WireCheck {
  return {
    // Decimal strings: ids are BIGINT UNSIGNED, beyond what a JSON number holds exactly.
    endpoint_id: check.endpointId.toString(),
    blog_id: check.blogId == null ? null : check.blogId.toString(),
    url: check.url,
    method: check.method ?? null,
    profile: check.profile ?? null,
    timeout_ms: check.timeoutMs ?? null,
    headers: check.headers ?? null,
    redirect_policy: check.redirectPolicy ?? null,
    max_redirects: check.maxRedirects ?? null,
    keyword: check.keyword ?? null,
    forbidden_keywords: check.forbiddenKeywords ?? null,
    keyword_case_sensitive: check.keywordCaseSensitive ?? null,
    refuse_private_targets: check.refusePrivateTargets === true,
  }
}

/** The answer to a request: who answered, and one result per check. */
export interface WireAnswer {
  veriflier: { id: string; region: string; version: string }
  results: WireResult[]
}

const answerIdSchema = v.union([
  v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  v.pipe(v.string(), v.regex(/^\d{1,20}$/)),
])

/**
 * How a monitor reads an answer: only the fields it decides from are required, so that a veriflier
 * of another version (older, or one that sends more) is still understood.
 */
export const answerSchema = v.object({
  veriflier: v.object({ id: v.string(), region: v.string(), version: v.string() }),
  results: v.array(
    v.object({
      endpoint_id: answerIdSchema,
      ok: v.boolean(),
      error: v.nullable(v.string()),
      error_code: v.pipe(v.number(), v.integer(), v.minValue(0)),
      http_status: v.nullable(v.pipe(v.number(), v.integer())),
      timings: v.nullish(v.object({ total_ms: v.nullish(v.number()) })),
      detail: v.nullish(v.string()),
    }),
  ),
})

/** An answer as a monitor reads it (see {@link answerSchema}). */
export type ReadAnswer = v.InferOutput<typeof answerSchema>
